// Test targets of javascript.yml for `semgrep --test` (apps/tools/tests/test_semgrep_rules.py).
const childProcess = require("child_process");
const fs = require("fs");

function handler(req, res) {
  // ruleid: seculite.javascript.eval
  eval(req.query.code);
  // ok: seculite.javascript.eval
  setTimeout(() => res.end(), 10);

  // ruleid: seculite.javascript.child-process-exec
  childProcess.exec("convert " + req.query.file);
  // ok: seculite.javascript.child-process-exec
  childProcess.exec("ls -l");

  // ruleid: seculite.javascript.path-traversal-fs
  fs.readFileSync("/data/" + req.params.name);
  // ok: seculite.javascript.path-traversal-fs
  fs.readFileSync("/data/index.html");

  // ruleid: seculite.javascript.inner-html
  document.body.innerHTML = req.query.html;
  // ok: seculite.javascript.inner-html
  document.body.innerHTML = "<p>static</p>";
}

// ruleid: seculite.javascript.tls-reject-unauthorized
const agent = { rejectUnauthorized: false };
