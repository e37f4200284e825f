# ruff: noqa
# Test targets of python.yml for `semgrep --test` (apps/tools/tests/test_semgrep_rules.py).
import hashlib
import os
import pickle
import subprocess

import requests
import yaml

# ruleid: seculite.python.subprocess-shell-true
subprocess.run(command, shell=True)
# ruleid: seculite.python.subprocess-shell-true
subprocess.check_output("ls " + folder, shell=True)
# ok: seculite.python.subprocess-shell-true
subprocess.run(["ls", folder])

# ruleid: seculite.python.os-system
os.system("rm -rf " + folder)

# ruleid: seculite.python.eval-exec
eval(user_input)
# ruleid: seculite.python.eval-exec
exec(code, namespace)
# ok: seculite.python.eval-exec
eval("1 + 1")

# ruleid: seculite.python.insecure-deserialization
pickle.loads(blob)

# ruleid: seculite.python.yaml-unsafe-load
yaml.load(text, Loader=yaml.Loader)
# ok: seculite.python.yaml-unsafe-load
yaml.safe_load(text)
# ok: seculite.python.yaml-unsafe-load
yaml.load(text, Loader=yaml.SafeLoader)

# ruleid: seculite.python.weak-hash
hashlib.md5(data)
# ok: seculite.python.weak-hash
hashlib.sha256(data)


def find(cursor, name):
    # ruleid: seculite.python.sql-string-formatting
    query = "SELECT * FROM users WHERE name = '%s'" % name
    cursor.execute(query)
    # ok: seculite.python.sql-string-formatting
    cursor.execute("SELECT * FROM users WHERE name = %s", [name])


# ruleid: seculite.python.tls-verify-disabled
requests.get(url, verify=False)
# ok: seculite.python.tls-verify-disabled
requests.get(url, timeout=5)

# ruleid: seculite.python.hardcoded-credential
API_KEY = "sk_live_0123456789"
# ok: seculite.python.hardcoded-credential
API_KEY = os.environ["API_KEY"]
