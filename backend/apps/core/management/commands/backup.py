"""`manage.py backup`: one timestamped archive of the database and the media files (make backup),
or, with --every, one now and then periodically (the compose `backup` service)."""

import logging
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from apps.core.backups import BackupError, backup_create, backup_next_due
from apps.core.backups.services import backup_directory

logger = logging.getLogger("seculite.backups")


class Command(BaseCommand):
    help = (
        "Write a backup archive (database dump + media files + manifest) into "
        "SECULITE_BACKUP_DIR and keep the newest SECULITE_BACKUP_KEEP."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir", help="directory of the archives (default: SECULITE_BACKUP_DIR)"
        )
        parser.add_argument(
            "--keep",
            type=int,
            help="archives to keep, the newest; 0 keeps all (default: SECULITE_BACKUP_KEEP)",
        )
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="run forever: a backup when the newest archive is this old, then again",
        )
        parser.add_argument(
            "--retry-seconds",
            type=float,
            default=300.0,
            help="with --every: seconds before trying again after a failed backup",
        )

    def handle(self, *args, output_dir=None, keep=None, every=None, retry_seconds=300.0, **opts):
        if keep is not None and keep < 0:
            raise CommandError("--keep must be 0 (keep all) or more.")
        if every is None:
            try:
                self._backup(output_dir, keep)
            except BackupError as exc:
                raise CommandError(str(exc)) from None
            return
        if every <= 0:
            raise CommandError("--every must be a positive number of seconds.")
        self._loop(output_dir, keep, timedelta(seconds=every), retry_seconds)

    def _backup(self, output_dir, keep):
        result = backup_create(directory=output_dir, keep=keep)
        database = result.manifest["database"]
        self.stdout.write(
            self.style.SUCCESS(f"Backup written: {result.path}")
            + f" ({result.size / 1e6:.1f} MB: {database['vendor']} {database['server_version']}"
            f" database, {result.media_files} media files)."
        )
        for entry in result.skipped:
            self.stderr.write(f"Skipped media entry: {entry}")
        keep = settings.SECULITE_BACKUP_KEEP if keep is None else keep
        if result.pruned:
            self.stdout.write(
                f"Kept the newest {keep}; removed {len(result.pruned)} older: "
                + ", ".join(p.name for p in result.pruned)
            )

    def _loop(self, output_dir, keep, every: timedelta, retry_seconds: float):
        directory = backup_directory(output_dir)
        self.stdout.write(
            f"Backups every {every.total_seconds():.0f}s into {directory}, keeping the newest "
            f"{settings.SECULITE_BACKUP_KEEP if keep is None else keep} (0: all)."
        )
        while True:
            due = backup_next_due(directory=directory, every=every)
            wait = (due - datetime.now(UTC)).total_seconds()
            if wait > 0:
                self.stdout.write(f"Next backup at {due.isoformat()}.")
                self.stdout.flush()
                time.sleep(wait)
            try:
                self._backup(output_dir, keep)
            except Exception as exc:  # keep the service alive: the next attempt may succeed
                logger.error("backup failed: %s: %s", type(exc).__name__, exc)
                self.stderr.write(f"Backup failed: {exc}")
                time.sleep(retry_seconds)
            finally:
                connections.close_all()
                self.stdout.flush()
