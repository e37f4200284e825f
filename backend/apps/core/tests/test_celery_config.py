"""Celery: queues, routing by task, reliability options and time limits from settings."""

from seculite_api.celery import app


def route(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_scan_tasks_go_to_the_scans_queue_and_others_to_default():
    assert route("apps.scans.tasks.scans_queue_probe") == "scans"
    assert route("apps.scans.tasks.anything_new") == "scans"
    assert route("apps.core.tasks.beat_heartbeat") == "default"


def test_both_queues_are_declared():
    assert {q.name for q in app.conf.task_queues} == {"default", "scans"}
    assert app.conf.task_default_queue == "default"


def test_reliability_and_serialization():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json" and conf.result_serializer == "json"
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.beat_scheduler == "apps.core.beat:DatabaseScheduler"


def test_tasks_are_registered():
    app.loader.import_default_modules()
    assert "apps.core.tasks.beat_heartbeat" in app.tasks
    assert "apps.scans.tasks.scans_queue_probe" in app.tasks
    assert "apps.core.tasks.beat_heartbeat" in {
        entry["task"] for entry in app.conf.beat_schedule.values()
    }
