"""Scan configurations: tools and overrides validated against each plugin's schema, targets of
the project only, schedules stored in django-celery-beat and kept in step with the row."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.scans.models import ScanConfiguration

pytestmark = pytest.mark.django_db


def url(world, suffix=""):
    return f"/api/v1/projects/{world.project_a.pk}/scanconfigurations/{suffix}"


def create(api_client, world, **body):
    api_client.force_authenticate(world.users["member"])
    payload = {
        "name": "nightly",
        "tools_and_configs": [{"tool_id": "bandit"}],
        "target_assets": [world.repo_a.pk],
        **body,
    }
    return api_client.post(url(world), payload, format="json")


def test_unknown_tools_and_bad_overrides_are_field_errors(api_client, world):
    bad = create(
        api_client,
        world,
        tools_and_configs=[
            {"tool_id": "nope"},
            {"tool_id": "bandit", "overrides": {"no_such_option": 1}},
        ],
    )
    assert bad.status_code == 400
    errors = bad.json()["errors"]["tools_and_configs"]
    assert errors[0] == "0: unknown tool 'nope'."
    assert errors[1].startswith("1: bandit")
    assert create(api_client, world, tools_and_configs=[]).status_code == 400
    assert not ScanConfiguration.objects.filter(name="nightly").exists()


def test_targets_must_belong_to_the_project(api_client, world):
    response = create(api_client, world, target_assets=[world.repo_b.pk])
    assert response.status_code == 400
    assert "target_assets" in response.json()["errors"]


def test_disabled_tools_cannot_be_configured(api_client, world):
    from apps.tools.models import ToolDefinition

    ToolDefinition.objects.filter(tool_id="bandit").update(enabled=False)
    response = create(api_client, world)
    assert response.status_code == 400
    assert "disabled" in response.json()["errors"]["tools_and_configs"][0]


def test_cron_schedule_creates_changes_and_removes_its_periodic_task(api_client, world):
    response = create(
        api_client, world, schedule_type="cron", schedule="30 2 * * 1-5", timezone="Europe/Berlin"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["next_runs"]) == 5
    assert body["next_runs"][0][-6:] in ("+01:00", "+02:00")  # Berlin, winter or summer
    assert "T02:30:00" in body["next_runs"][0]
    config = ScanConfiguration.objects.get(pk=body["id"])
    task = PeriodicTask.objects.get(pk=config.periodic_task_id)
    assert task.task == "apps.scans.tasks.scan_scheduled_launch"
    assert json.loads(task.kwargs) == {"configuration_id": config.pk}
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("30", "2", "1-5")
    assert str(task.crontab.timezone) == "Europe/Berlin"

    changed = api_client.patch(
        url(world, f"{config.pk}/"), {"schedule": "*/5 * * * *"}, format="json"
    )
    assert changed.status_code == 200
    task.refresh_from_db()
    assert task.crontab.minute == "*/5"

    manual = api_client.patch(
        url(world, f"{config.pk}/"), {"schedule_type": "manual"}, format="json"
    )
    assert manual.status_code == 200
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


def test_once_schedule_uses_a_clocked_one_off_task(api_client, world):
    when = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    response = create(api_client, world, schedule_type="once", schedule=when.isoformat())
    assert response.status_code == 201, response.json()
    task = ScanConfiguration.objects.get(pk=response.json()["id"]).periodic_task
    assert task.one_off is True and task.clocked.clocked_time == when


@pytest.mark.parametrize(
    ("schedule_type", "schedule", "field"),
    [
        ("cron", "not a cron", "schedule"),
        ("cron", "* * * *", "schedule"),
        ("once", "tomorrow", "schedule"),
        ("once", "2001-01-01T00:00:00Z", "schedule"),
        ("weekly", "", "schedule_type"),
        # Each of these answered 500, or was saved and broke the configuration list (500).
        ("cron", "0 0 30 2 *", "schedule"),  # 30 February never comes
        ("cron", "0 0 31 4 *", "schedule"),
        ("once", "9999-12-31T23:59:59-12:00", "schedule"),  # past the end of Python's dates
        ("once", "9999-12-31T23:00:00+00:00", "schedule"),
        ("once", "0001-01-01T00:00:00+14:00", "schedule"),
        # croniter takes these; celery beat cannot load them, so the scan would never run.
        ("cron", "0 0 L * *", "schedule"),
        ("cron", "0 0 * * 5#3", "schedule"),
        ("cron", "0 0 ? * *", "schedule"),
        ("cron", "0 0 * * 7", "schedule"),
    ],
)
def test_bad_schedules(api_client, world, schedule_type, schedule, field):
    response = create(api_client, world, schedule_type=schedule_type, schedule=schedule)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ScanConfiguration.objects.filter(name="nightly").exists()
    assert api_client.get(url(world)).status_code == 200


@pytest.mark.parametrize("zone", ["Moon/Base", "America", "Etc", "../../etc/passwd"])
def test_bad_timezone(api_client, world, zone):
    response = create(api_client, world, schedule_type="cron", schedule="0 * * * *", timezone=zone)
    assert response.status_code == 400 and "timezone" in response.json()["errors"]


def test_a_stored_schedule_that_cannot_be_previewed_does_not_break_the_list(api_client, world):
    """A row saved before validation refused such schedules still lists (no next runs)."""
    made = create(api_client, world, schedule_type="cron", schedule="0 3 * * *").json()
    ScanConfiguration.objects.filter(pk=made["id"]).update(schedule="0 0 30 2 *")
    listed = api_client.get(url(world))
    assert listed.status_code == 200
    [row] = [r for r in listed.json()["results"] if r["id"] == made["id"]]
    assert row["next_runs"] == []
    assert api_client.get(url(world, f"{made['id']}/")).status_code == 200


@pytest.mark.parametrize("pattern", ["a{4294967296}", "x{99999999999999999999}"])
def test_an_override_pattern_python_cannot_compile_is_a_field_error(api_client, world, pattern):
    response = create(
        api_client,
        world,
        tools_and_configs=[
            {"tool_id": "detect-secrets", "overrides": {"exclude_files": [pattern]}}
        ],
    )
    assert response.status_code == 400, response.content
    assert "tools_and_configs" in response.json()["errors"]


def test_clone_copies_everything_but_the_schedule(api_client, world):
    original = create(api_client, world, schedule_type="cron", schedule="0 3 * * *").json()
    clone = api_client.post(url(world, f"{original['id']}/clone/"))
    assert clone.status_code == 201
    body = clone.json()
    assert body["name"] == "nightly (copy)"
    assert body["tools_and_configs"] == original["tools_and_configs"]
    assert body["target_assets"] == original["target_assets"]
    assert body["schedule_type"] == "manual"


def test_clone_of_a_long_name_and_of_a_disabled_tool(api_client, world):
    from apps.tools.models import ToolDefinition

    original = create(api_client, world, name="n" * 150).json()
    names = [api_client.post(url(world, f"{original['id']}/clone/")).json()["name"] for _ in "ab"]
    assert names == ["n" * 140 + " (copy)", "n" * 140 + " (copy) 2"]
    ToolDefinition.objects.update_or_create(tool_id="bandit", defaults={"enabled": False})
    refused = api_client.post(url(world, f"{original['id']}/clone/"))
    assert refused.status_code == 400  # it answered 500
    assert "disabled by an administrator" in str(refused.json()["errors"])


def test_webhook_url_is_shown_once_and_starts_a_scan(
    api_client, world, django_capture_on_commit_callbacks
):
    response = create(api_client, world, webhook_enabled=True)
    assert response.status_code == 201
    hook = response.json()["webhook_url"]
    assert "/api/v1/webhooks/scans/swh_" in hook
    detail = api_client.get(url(world, f"{response.json()['id']}/")).json()
    assert detail["has_webhook"] is True and "webhook_url" not in detail
    from rest_framework.test import APIClient

    anonymous = APIClient()
    path = hook.split("testserver", 1)[1]
    started = anonymous.post(path)
    assert started.status_code == 202
    assert started.json()["trigger_type"] == "webhook"
    assert anonymous.post(path.replace("swh_", "swh_x")).status_code == 404
    # Rotation invalidates the old URL.
    api_client.post(url(world, f"{response.json()['id']}/rotate-webhook/"))
    assert anonymous.post(path).status_code == 404


def test_tooldefinitions_mirror_the_registry(api_client, world):
    from apps.tools.plugins.registry import registry

    api_client.force_authenticate(world.users["auditor"])
    listed = api_client.get("/api/v1/tooldefinitions/?page_size=100").json()["results"]
    assert {t["tool_id"] for t in listed} == set(registry.slugs())
    bandit = next(t for t in listed if t["tool_id"] == "bandit")
    assert bandit["category"] == "sast" and "git_repository" in bandit["target_types"]
    assert isinstance(bandit["available"], bool)
    if not bandit["available"]:
        assert bandit["unavailable_reason"]
