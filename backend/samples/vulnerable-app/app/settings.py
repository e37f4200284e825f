# ruff: noqa
"""Settings of the sample app: hard-coded credentials on purpose (see README.md)."""

DEBUG = True

AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_REGION = "eu-west-1"

DATABASE_PASSWORD = "Sup3rS3cretPassw0rd!"

ALLOWED_HOSTS = ["*"]
