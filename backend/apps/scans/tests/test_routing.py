"""Scaling out: heavy tools on queues of their own (SECULITE_TOOL_QUEUES), the reaper reading the
right queue, and each worker host sweeping its copies of finished scans' workspaces."""

import json
import os
import subprocess
import sys

import pytest
from celery.app.routes import Router, prepare
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from apps.scans import routing
from apps.scans.models import Scan, ScanToolResult
from apps.scans.services import execution
from seculite_api.celery import app


def test_parse_tool_queues_accepts_tool_equals_queue():
    assert routing.parse_tool_queues({" trivy ": " heavy", "semgrep": "heavy"}) == {
        "trivy": "heavy",
        "semgrep": "heavy",
    }
    assert routing.parse_tool_queues({}) == {}


@pytest.mark.parametrize("value", [{"trivy": ""}, {"trivy": "Heavy Queue"}, {"trivy": "default"}])
def test_parse_tool_queues_refuses_bad_names_and_the_default_queue(value):
    with pytest.raises(ImproperlyConfigured, match="SECULITE_TOOL_QUEUES"):
        routing.parse_tool_queues(value)


def test_the_setting_adds_the_queues_and_puts_the_router_first(tmp_path):
    """Read from the environment as a deployment sets it (a fresh process)."""
    probe = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.SECULITE_TOOL_QUEUES, "
        "[q.name for q in settings.CELERY_TASK_QUEUES], "
        "isinstance(settings.CELERY_TASK_ROUTES, tuple) and settings.CELERY_TASK_ROUTES[0]]))"
    )
    answers = []
    for value in ("trivy=heavy,semgrep=heavy,checkov=iac", ""):
        done = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=django_settings.BACKEND_DIR,
            env={
                "PATH": os.environ["PATH"],
                "DJANGO_SETTINGS_MODULE": "seculite_api.settings.local",
                "SECULITE_VAR_DIR": str(tmp_path),
                "SECULITE_TOOL_QUEUES": value,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        answers.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert answers[0] == [
        {"trivy": "heavy", "semgrep": "heavy", "checkov": "iac"},
        ["default", "scans", "heavy", "iac"],
        "apps.scans.routing.route_tool_run",
    ]
    assert answers[1] == [{}, ["default", "scans"], False]


@pytest.mark.django_db
def test_tool_runs_of_configured_tools_go_to_their_queue(world, settings):
    settings.SECULITE_TOOL_QUEUES = {"semgrep": "heavy"}
    heavy = ScanToolResult.objects.create(
        scan=world.scan_a, tool_id="semgrep", target=world.target_a
    )
    router = Router(
        prepare(("apps.scans.routing.route_tool_run", django_settings.CELERY_TASK_ROUTES)),
        app.amqp.queues,
        create_missing=True,
        app=app,
    )

    def queue(name, args):
        return router.route({}, name, args=args)["queue"].name

    assert queue(routing.TOOL_RUN_TASK, (heavy.pk,)) == "heavy"
    assert queue(routing.TOOL_RUN_TASK, (world.result_a.pk,)) == "scans"  # bandit
    assert queue(routing.TOOL_RUN_TASK, (10**9,)) == "scans"  # gone: the routes by name
    # Other tasks keep the routes by task name.
    assert queue("apps.scans.tasks.scan_start", (world.scan_a.pk,)) == "scans"
    assert queue("apps.scans.tasks.scans_reap_stale", ()) == "default"
    assert routing.scan_queues() == ["scans", "heavy"]


@pytest.mark.django_db
def test_the_reaper_resends_lost_tool_runs_only_when_their_own_queue_is_empty(
    world, settings, monkeypatch
):
    """A backlog on the heavy queue is not a lost message; an empty `scans` queue is."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.core import selectors
    from apps.scans import tasks

    settings.SECULITE_TOOL_QUEUES = {"semgrep": "heavy"}
    old = timezone.now() - timedelta(hours=1)
    waiting_heavy = ScanToolResult.objects.create(
        scan=world.scan_a, tool_id="semgrep", target=world.target_a
    )
    lost = ScanToolResult.objects.create(
        scan=world.scan_a, tool_id="detect-secrets", target=world.target_a
    )
    ScanToolResult.objects.filter(pk__in=[waiting_heavy.pk, lost.pk]).update(updated_at=old)
    monkeypatch.setattr(selectors, "queue_length", {"heavy": 3, "scans": 0}.get)
    sent = []
    monkeypatch.setattr(tasks.tool_run, "delay", sent.append)
    report = execution.scans_reap()
    assert sent == [lost.pk]
    assert report["redispatched"] == 1


@pytest.mark.django_db
def test_a_worker_host_sweeps_its_copies_of_finished_scans(world, settings, tmp_path):
    settings.SECULITE_WORKSPACE_DIR = tmp_path
    finished = Scan.objects.create(
        project=world.project_a, trigger_type="manual", status="completed"
    )
    for scan_id in (finished.pk, world.scan_a.pk, 10**9):
        (tmp_path / f"scan-{scan_id}" / "target-1" / "src").mkdir(parents=True)
    (tmp_path / "not-a-scan").mkdir()
    assert execution.workspaces_sweep() == 2  # the finished and the deleted scan
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-scan", f"scan-{world.scan_a.pk}"]
    settings.SECULITE_WORKSPACE_DIR = tmp_path / "missing"
    assert execution.workspaces_sweep() == 0
