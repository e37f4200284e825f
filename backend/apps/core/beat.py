"""Celery beat's scheduler: django-celery-beat's DatabaseScheduler that outlives a database
outage.

django-celery-beat re-reads the whole schedule every 5 minutes without catching database errors,
so an outage at that moment ended the beat process, and with it every periodic task (the scan
reaper, schedules, retention) until someone restarted it (found by verify/test_faults.py). Here a
database error skips the tick: beat keeps its schedule in memory and tries again shortly."""

import logging

from django.db import DatabaseError, InterfaceError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler as BaseDatabaseScheduler

logger = logging.getLogger("seculite.beat")

#: Seconds before the next try while the database does not answer.
RETRY_SECONDS = 5.0


class DatabaseScheduler(BaseDatabaseScheduler):
    def tick(self, *args, **kwargs):
        try:
            return super().tick(*args, **kwargs)
        except (DatabaseError, InterfaceError) as exc:
            logger.warning("beat: the database is unavailable, retrying shortly: %s", exc)
            # An entry may have been taken off the heap before the error: rebuild the heap from
            # the schedule on the next tick so that none is lost.
            self._heap = None
            close_old_connections()
            return min(RETRY_SECONDS, self.max_interval)
