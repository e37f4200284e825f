"""Scan configurations: validation of tools, overrides, targets and schedules, and their
django-celery-beat periodic tasks (created, changed and removed with the configuration)."""

import json
import re
import secrets
import zoneinfo
from datetime import UTC, datetime

from croniter import croniter
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, PeriodicTask

from apps.projects.models import TargetAsset, TargetGroup
from apps.tools.models import ToolDefinition
from apps.tools.plugins.registry import registry
from apps.users.authentication import hash_secret

from ..models import ScanConfiguration, ScheduleType

WEBHOOK_PREFIX = "swh_"
SCHEDULED_LAUNCH_TASK = "apps.scans.tasks.scan_scheduled_launch"


def validate_tools(tools_and_configs) -> list[dict]:
    """[{"tool_id", "overrides"}]: known, enabled plugins with overrides their schema accepts."""
    import jsonschema

    if not isinstance(tools_and_configs, list) or not tools_and_configs:
        raise ValidationError({"tools_and_configs": ["Choose at least one tool."]})
    disabled = set(ToolDefinition.objects.filter(enabled=False).values_list("tool_id", flat=True))
    cleaned, errors, seen = [], [], set()
    for index, entry in enumerate(tools_and_configs):
        if not isinstance(entry, dict) or not isinstance(entry.get("tool_id"), str):
            errors.append(f'{index}: expected {{"tool_id": ..., "overrides": {{...}}}}.')
            continue
        slug = entry["tool_id"]
        overrides = entry.get("overrides") or {}
        if slug not in registry:
            errors.append(f"{index}: unknown tool '{slug}'.")
            continue
        if slug in disabled:
            errors.append(f"{index}: the tool '{slug}' is disabled by an administrator.")
            continue
        if slug in seen:
            errors.append(f"{index}: '{slug}' is listed twice.")
            continue
        seen.add(slug)
        try:
            registry.get(slug).validate_overrides(overrides)
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "overrides"
            errors.append(f"{index}: {slug} {where}: {exc.message}")
            continue
        except (OverflowError, RecursionError, re.error) as exc:
            # A pattern Python's re cannot compile ("a{4294967296}") or nesting too deep.
            errors.append(f"{index}: {slug} overrides: {exc}")
            continue
        cleaned.append({"tool_id": slug, "overrides": overrides})
    if errors:
        raise ValidationError({"tools_and_configs": errors})
    return cleaned


def parse_cron(expression: str) -> list[str]:
    fields = expression.split()
    if len(fields) != 5 or not croniter.is_valid(expression):
        raise ValidationError(
            {
                "schedule": [
                    "Not a cron expression: five fields, minute hour day-of-month month "
                    "day-of-week."
                ]
            }
        )
    # What celery beat will run (croniter also takes "L", "5#3", "?" and weekday 7, which
    # beat's crontab refuses when it loads the schedule: the scan would never start).
    from celery.schedules import crontab

    minute, hour, day_of_month, month_of_year, day_of_week = fields
    try:
        crontab(minute, hour, day_of_week, day_of_month, month_of_year)
    except (ValueError, TypeError) as exc:
        message = f"Celery beat cannot run this schedule: {exc}"
        raise ValidationError({"schedule": [message]}) from None
    # One that never comes ("0 0 30 2 *": 30 February).
    try:
        croniter(expression, timezone.now()).get_next(datetime)
    except Exception:  # croniter's CroniterBadDateError and kin
        raise ValidationError({"schedule": ["This schedule never comes round."]}) from None
    return fields


def validate_schedule(schedule_type: str, schedule: str, tz: str) -> tuple[str, str]:
    """Returns the normalised schedule: a UTC ISO time for `once`, the expression for `cron`."""
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name of a folder of the time zone database ("America").
        raise ValidationError({"timezone": [f"'{tz}' is not an IANA time zone name."]}) from None
    schedule = (schedule or "").strip()
    if schedule_type == ScheduleType.MANUAL:
        return "", tz
    if schedule_type == ScheduleType.ONCE:
        try:
            when = datetime.fromisoformat(schedule)
        except ValueError:
            raise ValidationError({"schedule": ["Give an ISO 8601 date-time."]}) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=zone)
        try:
            when = when.astimezone(UTC)
            when.astimezone(zone)  # as previews show it
        except OverflowError:
            raise ValidationError({"schedule": ["The date-time is out of range."]}) from None
        if when.year >= 9999:
            raise ValidationError({"schedule": ["The date-time is out of range."]})
        if when <= timezone.now():
            raise ValidationError({"schedule": ["The date-time is in the past."]})
        return when.isoformat(), tz
    if schedule_type == ScheduleType.CRON:
        parse_cron(schedule)
        return " ".join(schedule.split()), tz
    raise ValidationError({"schedule_type": [f"'{schedule_type}' is not manual, once or cron."]})


def next_runs(configuration: ScanConfiguration, count: int = 5) -> list[str]:
    """The next run times (ISO, in the configuration's timezone) for previews; none for a
    schedule that cannot be computed (a row stored before validation refused such values must
    not break the list that shows it)."""
    try:
        zone = zoneinfo.ZoneInfo(configuration.timezone)
        if configuration.schedule_type == ScheduleType.ONCE and configuration.schedule:
            return [datetime.fromisoformat(configuration.schedule).astimezone(zone).isoformat()]
        if configuration.schedule_type != ScheduleType.CRON:
            return []
        it = croniter(configuration.schedule, timezone.now().astimezone(zone))
        return [it.get_next(datetime).isoformat() for _ in range(count)]
    except Exception:  # a preview: the schedule itself was validated when saved
        return []


def _targets_of(project, target_ids, group_ids):
    targets = list(TargetAsset.objects.filter(project=project, pk__in=target_ids or []))
    groups = list(TargetGroup.objects.filter(project=project, pk__in=group_ids or []))
    errors = {}
    if len(targets) != len(set(target_ids or [])):
        errors["target_assets"] = ["Every target must belong to this project."]
    if len(groups) != len(set(group_ids or [])):
        errors["target_groups"] = ["Every target group must belong to this project."]
    if errors:
        raise ValidationError(errors)
    return targets, groups


def _sync_schedule(configuration: ScanConfiguration) -> None:
    """Create, change or remove the beat entry of a configuration (beat sees it at once)."""
    task = configuration.periodic_task
    wanted = configuration.is_active and configuration.schedule_type != ScheduleType.MANUAL
    if not wanted:
        if task is not None:
            configuration.periodic_task = None
            configuration.save(update_fields=["periodic_task"])
            task.delete()
        return
    name = f"scan-configuration-{configuration.pk}"
    fields = {
        "task": SCHEDULED_LAUNCH_TASK,
        "kwargs": json.dumps({"configuration_id": configuration.pk}),
        "queue": "default",
        "enabled": True,
        "description": f"Scheduled scan of {configuration.project.name} / {configuration.name}",
        "interval": None,
        "crontab": None,
        "clocked": None,
        "solar": None,
        "one_off": False,
    }
    if configuration.schedule_type == ScheduleType.CRON:
        minute, hour, dom, month, dow = parse_cron(configuration.schedule)
        fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=dom,
            month_of_year=month,
            day_of_week=dow,
            timezone=configuration.timezone,
        )
    else:
        fields["clocked"], _ = ClockedSchedule.objects.get_or_create(
            clocked_time=datetime.fromisoformat(configuration.schedule)
        )
        fields["one_off"] = True
    if task is None:
        task = PeriodicTask.objects.filter(name=name).first() or PeriodicTask(name=name)
    for key, value in fields.items():
        setattr(task, key, value)
    task.save()  # PeriodicTask's save marks the schedule changed for DatabaseScheduler
    if configuration.periodic_task_id != task.pk:
        configuration.periodic_task = task
        configuration.save(update_fields=["periodic_task"])


def _webhook_token() -> tuple[str, str, str]:
    raw = WEBHOOK_PREFIX + secrets.token_urlsafe(32)
    return raw, raw[:12], hash_secret(raw)


@transaction.atomic
def configuration_create(
    *,
    project,
    user,
    name: str,
    description: str = "",
    target_assets=(),
    target_groups=(),
    tools_and_configs=(),
    schedule_type: str = ScheduleType.MANUAL,
    schedule: str = "",
    timezone: str = "UTC",
    webhook_enabled: bool = False,
    notification_settings: dict | None = None,
    is_active: bool = True,
) -> tuple[ScanConfiguration, str | None]:
    """Returns the configuration and, when a webhook was asked for, its token (shown once)."""
    if ScanConfiguration.objects.filter(project=project, name=name).exists():
        raise ValidationError({"name": ["A configuration with this name exists in the project."]})
    tools = validate_tools(list(tools_and_configs))
    schedule, tz = validate_schedule(schedule_type, schedule, timezone)
    targets, groups = _targets_of(project, target_assets, target_groups)
    configuration = ScanConfiguration.objects.create(
        project=project,
        name=name,
        description=description,
        tools_and_configs=tools,
        schedule_type=schedule_type,
        schedule=schedule,
        timezone=tz,
        created_by=user,
        notification_settings=notification_settings or {},
        is_active=is_active,
    )
    configuration.target_assets.set(targets)
    configuration.target_groups.set(groups)
    token = None
    if webhook_enabled:
        token = configuration_rotate_webhook(configuration=configuration)
    _sync_schedule(configuration)
    return configuration, token


@transaction.atomic
def configuration_update(*, configuration: ScanConfiguration, **fields) -> str | None:
    """Apply changed fields; returns a new webhook token when one was created."""
    project = configuration.project
    if (
        "name" in fields
        and fields["name"] != configuration.name
        and ScanConfiguration.objects.filter(project=project, name=fields["name"]).exists()
    ):
        raise ValidationError({"name": ["A configuration with this name exists in the project."]})
    if "tools_and_configs" in fields:
        fields["tools_and_configs"] = validate_tools(fields["tools_and_configs"])
    if {"schedule_type", "schedule", "timezone"} & set(fields):
        fields["schedule"], fields["timezone"] = validate_schedule(
            fields.get("schedule_type", configuration.schedule_type),
            fields.get("schedule", configuration.schedule),
            fields.get("timezone", configuration.timezone),
        )
    targets = groups = None
    if "target_assets" in fields or "target_groups" in fields:
        targets, groups = _targets_of(
            project,
            fields.pop("target_assets", None)
            if "target_assets" in fields
            else configuration.target_assets.values_list("pk", flat=True),
            fields.pop("target_groups", None)
            if "target_groups" in fields
            else configuration.target_groups.values_list("pk", flat=True),
        )
    webhook = fields.pop("webhook_enabled", None)
    for key in (
        "name",
        "description",
        "tools_and_configs",
        "schedule_type",
        "schedule",
        "timezone",
        "notification_settings",
        "is_active",
    ):
        if key in fields:
            setattr(configuration, key, fields[key])
    configuration.save()
    if targets is not None:
        configuration.target_assets.set(targets)
        configuration.target_groups.set(groups)
    token = None
    if webhook is True and not configuration.webhook_token_hash:
        token = configuration_rotate_webhook(configuration=configuration)
    elif webhook is False:
        configuration.webhook_prefix = configuration.webhook_token_hash = ""
        configuration.save(update_fields=["webhook_prefix", "webhook_token_hash"])
    _sync_schedule(configuration)
    return token


def configuration_rotate_webhook(*, configuration: ScanConfiguration) -> str:
    raw, prefix, digest = _webhook_token()
    configuration.webhook_prefix, configuration.webhook_token_hash = prefix, digest
    configuration.save(update_fields=["webhook_prefix", "webhook_token_hash", "updated_at"])
    return raw


@transaction.atomic
def configuration_clone(
    *, configuration: ScanConfiguration, user, name: str | None = None
) -> ScanConfiguration:
    base = name or f"{configuration.name[:140]} (copy)"
    candidate, n = base, 2
    while ScanConfiguration.objects.filter(project=configuration.project, name=candidate).exists():
        candidate, n = f"{base[: 149 - len(str(n))]} {n}", n + 1
    clone, _ = configuration_create(
        project=configuration.project,
        user=user,
        name=candidate[:150],
        description=configuration.description,
        target_assets=list(configuration.target_assets.values_list("pk", flat=True)),
        target_groups=list(configuration.target_groups.values_list("pk", flat=True)),
        tools_and_configs=configuration.tools_and_configs,
        schedule_type=ScheduleType.MANUAL,
        timezone=configuration.timezone,
        notification_settings=configuration.notification_settings,
    )
    return clone


@transaction.atomic
def configuration_delete(*, configuration: ScanConfiguration) -> None:
    task = configuration.periodic_task
    configuration.delete()
    if task is not None:
        task.delete()


def configuration_for_webhook(token: str) -> ScanConfiguration | None:
    import hmac

    if not token or not token.startswith(WEBHOOK_PREFIX):
        return None
    digest = hash_secret(token)
    for candidate in ScanConfiguration.objects.filter(
        webhook_prefix=token[:12], is_active=True, project__is_active=True
    ).select_related("project"):
        if hmac.compare_digest(candidate.webhook_token_hash, digest):
            return candidate
    return None
