# ruff: noqa
"""Request handlers of the sample app: every function has a planted flaw (see README.md)."""

import hashlib
import pickle
import sqlite3
import subprocess

import requests
import yaml


def ping(host):
    """Command injection: user input reaches a shell."""
    return subprocess.call("ping -c 1 " + host, shell=True)


def calculate(expression):
    """Code injection: user input is evaluated."""
    return eval(expression)


def load_session(blob):
    """Insecure deserialization of untrusted bytes."""
    return pickle.loads(blob)


def load_config(text):
    """yaml.load without a safe loader."""
    return yaml.load(text, Loader=yaml.Loader)


def password_digest(password):
    """Weak hash for passwords."""
    return hashlib.md5(password.encode()).hexdigest()


def find_user(name):
    """SQL injection: the query is built by string formatting."""
    connection = sqlite3.connect("users.db")
    query = "SELECT * FROM users WHERE name = '%s'" % name
    return connection.execute(query).fetchall()


def fetch_avatar(url):
    """TLS verification disabled."""
    return requests.get(url, verify=False, timeout=10).content


def serve():
    """Listens on every interface."""
    import http.server

    server = http.server.HTTPServer(("0.0.0.0", 8080), http.server.SimpleHTTPRequestHandler)
    server.serve_forever()
