"""The broker down while scans are launched and finished: the database is the source of truth
(found by verify/test_faults.py, where a launch during a Redis restart answered 500)."""

from datetime import timedelta

import kombu.exceptions
import pytest
from django.utils import timezone

from apps.scans.models import Scan
from apps.scans.services import execution

pytestmark = pytest.mark.django_db


def broker_down(*args, **kwargs):
    raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379.")


def test_a_launch_while_the_broker_is_down_is_queued_and_sent_by_the_reaper(
    world, api_client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("apps.scans.tasks.scan_start.delay", broker_down)
    api_client.force_authenticate(world.users["member"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            f"/api/v1/projects/{world.project_a.pk}/scanconfigurations/{world.config_a.pk}/launch/"
        )
    assert response.status_code == 202, response.json()
    scan = Scan.objects.get(pk=response.json()["id"])
    assert scan.status == "queued"

    # The broker is back (empty): the reaper sends the scan that nobody started.
    sent = []
    monkeypatch.setattr("apps.scans.tasks.scan_start.delay", lambda pk: sent.append(pk))
    monkeypatch.setattr("apps.core.selectors.queue_length", lambda name: 0)
    Scan.objects.filter(pk=scan.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    report = execution.scans_reap()
    assert report["restarted"] == 1 and sent == [scan.pk]


def test_a_crash_after_the_scan_finished_keeps_its_outcome(world):
    Scan.objects.filter(pk=world.scan_a.pk).update(status="completed", error_message="")
    execution.tool_run_crashed(
        result_id=world.result_a.pk, error=kombu.exceptions.OperationalError("down")
    )
    scan = Scan.objects.get(pk=world.scan_a.pk)
    assert scan.status == "completed"
    assert not scan.platform_error and scan.error_message == ""


def test_a_crash_of_a_running_scan_still_ends_it_as_error(world):
    execution.tool_run_crashed(result_id=world.result_a.pk, error=RuntimeError("boom"))
    scan = Scan.objects.get(pk=world.scan_a.pk)
    assert scan.status == "error" and "RuntimeError: boom" in scan.error_message
