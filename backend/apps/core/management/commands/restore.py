"""`manage.py restore FILE`: restore a backup archive into an empty database and media folder
(make restore FILE=...); --force replaces what they hold, --check only verifies the archive."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.backups import BackupError, backup_restore, backup_verify
from apps.core.backups.database import database_describe


class Command(BaseCommand):
    help = (
        "Restore a backup archive written by `manage.py backup` into the configured database "
        "and MEDIA_ROOT, then apply migrations."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the archive (seculite-YYYYmmdd-HHMMSS.tar.gz)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace the contents of a database and media folder that are not empty",
        )
        parser.add_argument(
            "--check", action="store_true", help="only verify the archive; change nothing"
        )

    def handle(self, *args, archive: str, force: bool, check: bool, **options):
        path = Path(archive).expanduser()
        try:
            if check:
                manifest = backup_verify(archive=path)
                self.stdout.write(
                    self.style.SUCCESS(f"{path.name} is intact: ")
                    + self._describe(manifest, len(manifest["members"]))
                )
                return
            result = backup_restore(archive=path, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Restored {path.name}")
            + f" into the {database_describe()} and {settings.MEDIA_ROOT}"
            + (" (their previous contents were replaced)" if result.replaced else "")
            + ": "
            + self._describe(result.manifest, result.media_files, media=True)
        )
        self.stdout.write(result.migrate_output.rstrip())
        if result.unfinished_scans:
            self.stdout.write(
                f"{result.unfinished_scans} scan(s) were unfinished when the backup was taken: "
                "once workers and beat run, the reaper runs their interrupted tools again or "
                "fails them, so that they end."
            )

    @staticmethod
    def _describe(manifest: dict, count: int, media: bool = False) -> str:
        database = manifest.get("database", {})
        what = f"{count} media files" if media else f"{count} members"
        return (
            f"created {manifest.get('created_at')} by SecuLite {manifest.get('seculite_version')} "
            f"(Django {manifest.get('django_version')}, {database.get('vendor')} "
            f"{database.get('server_version')}), {what}."
        )
