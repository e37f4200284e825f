// Sample HTTP handlers with planted flaws (see README.md). Never run this.
const fs = require("fs");
const childProcess = require("child_process");

function calculate(req, res) {
  const result = eval(req.query.expression);
  res.send(String(result));
}

function download(req, res) {
  const name = req.query.file;
  fs.readFile("/srv/files/" + name, (err, data) => {
    res.send(data);
  });
}

function convert(req, res) {
  childProcess.exec("convert " + req.query.image + " out.png", () => res.send("ok"));
}

function setPreference(req, res) {
  const prefs = {};
  const key = req.body.key;
  prefs[key] = req.body.value;
  res.json(prefs);
}

module.exports = { calculate, download, convert, setPreference };
