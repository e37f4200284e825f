"""Beat's scheduler survives a database outage (django-celery-beat's own ends the process when
the outage meets its 5-minute re-read of the schedule)."""

import datetime

import pytest
from django.db import OperationalError
from django_celery_beat.schedulers import SCHEDULE_SYNC_MAX_INTERVAL
from django_celery_beat.schedulers import DatabaseScheduler as BaseDatabaseScheduler

from apps.core.beat import RETRY_SECONDS, DatabaseScheduler
from seculite_api.celery import app

# transaction=True: the scheduler closes connections that are inside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def database_down(*args, **kwargs):
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def scheduler(monkeypatch, cls=DatabaseScheduler):
    beat = cls(app=app)
    monkeypatch.setattr(beat, "apply_entry", lambda *args, **kwargs: None)  # no broker here
    beat.tick()  # the first read and the heap
    known = set(beat.schedule)
    # The next tick is the forced re-read of the whole schedule, and the database is gone.
    beat._last_full_sync = datetime.datetime.now() - datetime.timedelta(
        seconds=SCHEDULE_SYNC_MAX_INTERVAL + 1
    )
    monkeypatch.setattr(beat, "enabled_models", database_down)
    return beat, known


def test_django_celery_beats_scheduler_dies_of_an_outage_at_its_re_read(monkeypatch):
    # The reason for apps.core.beat: if this stops raising, the subclass can go.
    beat, _ = scheduler(monkeypatch, cls=BaseDatabaseScheduler)
    with pytest.raises(OperationalError):
        beat.tick()


def test_an_outage_at_the_re_read_skips_the_tick_and_keeps_the_schedule(monkeypatch):
    beat, known = scheduler(monkeypatch)
    assert "seculite-scans-reaper" in known
    assert beat.tick() == min(RETRY_SECONDS, beat.max_interval)
    assert beat._heap is None  # rebuilt on the next tick: no entry lost
    monkeypatch.undo()
    monkeypatch.setattr(beat, "apply_entry", lambda *args, **kwargs: None)
    beat.tick()  # the database is back
    assert set(beat.schedule) == known
    assert {event[2].name for event in beat._heap} == known


def test_the_configured_scheduler_is_this_one():
    assert app.conf.beat_scheduler == "apps.core.beat:DatabaseScheduler"
