"""Backups and restore of a SecuLite installation: `manage.py backup` / `manage.py restore`
(`make backup`, `make restore FILE=...`, the compose `backup` service). See docs/operations.md."""

from .archive import BackupError
from .services import (
    BackupResult,
    RestoreResult,
    backup_create,
    backup_next_due,
    backup_restore,
    backup_verify,
    backups_prune,
)

__all__ = [
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "backup_create",
    "backup_next_due",
    "backup_restore",
    "backup_verify",
    "backups_prune",
]
