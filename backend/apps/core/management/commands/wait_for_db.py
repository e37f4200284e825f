"""Wait until the database (and the Celery broker) answer, or fail with a clear message.

Replaces the `until psql ...` loop of the Docker plan: the image has no psql, and this checks
exactly the connection settings Django and Celery will use."""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.core.selectors import broker_check, database_check

logger = logging.getLogger("seculite.startup")


class Command(BaseCommand):
    help = "Wait for the database and the Celery broker to accept connections."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait in all")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between tries")
        parser.add_argument("--skip-broker", action="store_true", help="check the database only")

    def handle(self, *args, timeout: float, interval: float, skip_broker: bool, **options):
        deadline = time.monotonic() + timeout
        checks = [("database", database_check)]
        if not skip_broker:
            checks.append(("broker", lambda: broker_check(timeout=min(interval * 3, 5.0))))
        for name, check in checks:
            self._wait(name, check, deadline, interval)
        self._say(
            "Database and broker are available." if not skip_broker else "Database is available."
        )

    def _say(self, message: str, *, waiting: bool = False) -> None:
        """Plain text for a person; a log line when the process logs JSON (its output is the
        start of the web, worker or beat process's log)."""
        if settings.SECULITE_LOG_FORMAT == "json":
            logger.log(logging.WARNING if waiting else logging.INFO, message)
        elif waiting:
            self.stderr.write(message)
        else:
            self.stdout.write(self.style.SUCCESS(message))

    def _wait(self, name, check, deadline, interval):
        attempt = 0
        while True:
            attempt += 1
            try:
                check()
                return
            except Exception as exc:
                last = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                if time.monotonic() >= deadline:
                    where = self._describe(name)
                    raise CommandError(
                        f"The {name} at {where} did not answer after {attempt} tries: {last}"
                    ) from None
                if attempt == 1 or attempt % 10 == 0:
                    self._say(f"Waiting for the {name} at {self._describe(name)} ...", waiting=True)
                time.sleep(interval)

    @staticmethod
    def _describe(name: str) -> str:
        if name == "database":
            db = settings.DATABASES["default"]
            if db["ENGINE"].endswith("sqlite3"):
                return f"sqlite:{db['NAME']}"
            return f"{db.get('HOST')}:{db.get('PORT')}/{db.get('NAME')}"
        url = settings.CELERY_BROKER_URL
        # Never print credentials that may be part of the broker URL.
        if "@" in url:
            scheme, _, rest = url.partition("://")
            url = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
        return url
