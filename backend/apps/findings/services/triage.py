"""Triage: analysts change a finding's status, severity override, assignee, due date and tags,
one finding (PATCH) or many at once (bulk update), and comment on findings.

Both paths run the same set-based code: the rows are locked and checked in one query, each
changed field gets its history rows from one INSERT ... SELECT and its new value from one
UPDATE, so the number of queries does not grow with the number of findings.

Status rules (TRANSITIONS): `new` and `auto_resolved` are set by the platform only; the working
statuses `confirmed` and `in_progress` apply to open findings (reopen a closed one first);
`false_positive`, `risk_accepted` and `resolved` close any finding; `reopened` opens a closed
one. `risk_accepted` needs a justification and an expiry no later than
SECULITE_RISK_ACCEPTANCE_MAX_DAYS (default 365) days ahead; without an expiry the maximum
applies. Setting `risk_accepted` again on an accepted finding renews the acceptance; who
accepted, why and until when stay on the finding as the record of the last acceptance."""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from apps.users.models import OrganizationMembership

from ..models import OPEN_STATUSES, SEVERITY_RANK, Finding, FindingComment, FindingStatus
from ..selectors import writable_organization_ids
from .lifecycle import (
    due_date_expression,
    effective_is,
    effective_severity_expression,
    history_insert,
    rank_case,
    sla_days,
)
from .notifications import findings_assigned_queue

S = FindingStatus
CLOSED_STATUSES = (S.FALSE_POSITIVE, S.RISK_ACCEPTED, S.RESOLVED, S.AUTO_RESOLVED)
#: target status -> the statuses it may be set from (the same status is a no-op, or a renewal).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.CONFIRMED: frozenset(OPEN_STATUSES),
    S.IN_PROGRESS: frozenset(OPEN_STATUSES),
    S.FALSE_POSITIVE: frozenset(S.values),
    S.RISK_ACCEPTED: frozenset(S.values),
    S.RESOLVED: frozenset(S.values),
    S.REOPENED: frozenset({*CLOSED_STATUSES, S.REOPENED}),
}
MANUAL_STATUSES = tuple(TRANSITIONS)
#: The most findings one bulk update may touch (a narrower filter, or several requests).
BULK_UPDATE_MAX = 10_000
TRIAGE_FIELDS = frozenset(
    {
        "status",
        "severity_override",
        "assignee_id",
        "due_date",
        "tags",
        "risk_acceptance_justification",
        "risk_acceptance_expires_at",
    }
)


def risk_acceptance_max_days() -> int:
    return int(getattr(settings, "SECULITE_RISK_ACCEPTANCE_MAX_DAYS", 365))


@dataclass
class TriageResult:
    updated: int = 0
    failed: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    found: int = 0  # rows of the queryset (visible to the caller)
    writable: int = 0  # of which in organizations where the caller may triage


def _transition_error(old: str, new: str) -> str:
    if new in (S.CONFIRMED, S.IN_PROGRESS) and old in CLOSED_STATUSES:
        return f"A {old} finding cannot become {new}: reopen it first."
    return f"A {old} finding cannot become {new}."


def _clean(changes: dict, *, now: datetime) -> dict:
    """Checks that do not depend on the rows; raises ValidationError."""
    changes = {k: v for k, v in changes.items() if k in TRIAGE_FIELDS}
    if not changes:
        raise ValidationError("Name at least one change (status, severity_override, ...).")
    status = changes.get("status")
    if status is not None and status not in TRANSITIONS:
        raise ValidationError({"status": [f"{status} is set by the platform, not by triage."]})
    risk_keys = {"risk_acceptance_justification", "risk_acceptance_expires_at"} & set(changes)
    if status != S.RISK_ACCEPTED:
        if risk_keys:
            raise ValidationError(
                {key: ["Only together with status risk_accepted."] for key in sorted(risk_keys)}
            )
        return changes
    justification = (changes.get("risk_acceptance_justification") or "").strip()
    if not justification:
        raise ValidationError(
            {"risk_acceptance_justification": ["Accepting a risk needs a justification."]}
        )
    limit = now + timedelta(days=risk_acceptance_max_days())
    expires = changes.get("risk_acceptance_expires_at") or limit
    if expires <= now:
        raise ValidationError({"risk_acceptance_expires_at": ["The expiry must be in the future."]})
    if expires > limit + timedelta(minutes=5):
        raise ValidationError(
            {
                "risk_acceptance_expires_at": [
                    f"A risk may be accepted for at most {risk_acceptance_max_days()} days."
                ]
            }
        )
    changes["risk_acceptance_justification"] = justification
    changes["risk_acceptance_expires_at"] = expires
    return changes


def _assignee(assignee_id: int) -> tuple[set[int], str]:
    """The organizations of the new assignee and the name for the history (one query)."""
    rows = list(
        OrganizationMembership.objects.filter(
            user_id=assignee_id, user__is_active=True, organization__is_active=True
        ).values_list("organization_id", "user__username")
    )
    return {org for org, _ in rows}, (rows[0][1] if rows else "")


def findings_triage(
    *,
    user,
    queryset: QuerySet[Finding],
    changes: dict,
    note: str = "",
    limit: int = BULK_UPDATE_MAX,
    ids: list[int] | None = None,
) -> TriageResult:
    """Apply `changes` to every finding of `queryset` (already scoped to the caller) that the
    caller may triage and that accepts them; the others are reported in `failed`, and so is
    each of `ids` (when given) that the queryset does not hold."""
    now = timezone.now()
    changes = _clean(changes, now=now)
    writable = writable_organization_ids(user)
    result = TriageResult()
    with transaction.atomic():
        assignee_orgs, assignee_name = set(), ""
        if changes.get("assignee_id") is not None:
            assignee_orgs, assignee_name = _assignee(changes["assignee_id"])
        rows = list(
            queryset.select_for_update(of=("self",))
            .order_by("pk")
            .values_list("pk", "status", "project__organization_id")[: limit + 1]
        )
        if len(rows) > limit:
            raise ValidationError(
                f"At most {limit} findings can be changed at once: narrow the selection."
            )
        ok = []
        status = changes.get("status")
        for pk, old_status, org_id in rows:
            errors: dict[str, list[str]] = {}
            if org_id not in writable:
                errors["id"] = ["Your role in this finding's organization does not allow this."]
            else:
                result.writable += 1
                if status and old_status not in TRANSITIONS[status]:
                    errors["status"] = [_transition_error(old_status, status)]
                if changes.get("assignee_id") is not None and org_id not in assignee_orgs:
                    errors["assignee_id"] = [
                        "The assignee must be a member of the finding's organization."
                    ]
            if errors:
                result.failed[pk] = errors
            else:
                ok.append(pk)
        result.found = len(rows)
        if ids is not None:
            present = {pk for pk, _, _ in rows}
            for pk in ids:
                if pk not in present:
                    result.failed[pk] = {"id": ["Not found."]}
        if ok:
            _apply(
                Finding.objects.filter(pk__in=ok),
                changes=changes,
                note=note,
                actor_id=user.pk,
                assignee_name=assignee_name,
                now=now,
            )
        result.updated = len(ok)
    return result


def _apply(target: QuerySet, *, changes, note, actor_id, assignee_name, now) -> None:
    """History first (it reads the old values), then the UPDATE, field by field; the status
    last, since the other statements do not depend on it."""
    log = {"now": now, "actor_id": actor_id, "note": note}
    if "severity_override" in changes:
        _apply_severity(target, new=changes["severity_override"] or "", log=log)
    if "assignee_id" in changes:
        new = changes["assignee_id"]
        changed = (
            target.exclude(assignee__isnull=True)
            if new is None
            else target.exclude(assignee_id=new)
        )
        history_insert(
            changed,
            field="assignee",
            old=Coalesce(F("assignee__username"), Value("")),
            new=assignee_name,
            **log,
        )
        assigned = list(changed.values_list("pk", flat=True)) if new is not None else []
        changed.update(assignee_id=new, updated_at=now)
        # The assignee hears of it (e-mail, webhooks) once the change is committed.
        findings_assigned_queue(finding_ids=assigned, assignee_id=new, actor_id=actor_id)
    if "due_date" in changes:
        new = changes["due_date"]
        changed = (
            target.exclude(due_date__isnull=True) if new is None else target.exclude(due_date=new)
        )
        history_insert(
            changed,
            field="due_date",
            old=Cast(F("due_date"), CharField()),
            new=new.isoformat() if new else "",
            **log,
        )
        changed.update(due_date=new, updated_at=now)
    if "tags" in changes:
        new = changes["tags"]
        changed = target.exclude(tags=new)
        history_insert(
            changed, field="tags", old=Cast(F("tags"), CharField()), new=json.dumps(new), **log
        )
        changed.update(tags=new, updated_at=now)
    if "status" in changes:
        _apply_status(target, changes=changes, log=log)


def _apply_severity(target: QuerySet, *, new: str, log: dict) -> None:
    """Set or clear the override; where the effective severity changes, record it and move the
    SLA due date (counted from the first sighting)."""
    days = sla_days()
    now = log["now"]
    if new:
        changed = target.exclude(effective_is(new))
        values = {
            "effective_severity": Value(new),
            "severity_rank": Value(SEVERITY_RANK[new]),
            "due_date": due_date_expression(days[new]),
        }
        new_expression = Value(new)
    else:  # back to the scanner's severity
        changed = target.exclude(severity_override="").exclude(severity_override=F("severity"))
        values = {
            "effective_severity": F("severity"),
            "severity_rank": rank_case("severity"),
            "due_date": Case(
                *[When(severity=s, then=due_date_expression(n)) for s, n in days.items() if n],
                default=Value(None),
            ),
        }
        new_expression = F("severity")
    history_insert(
        changed, field="severity", old=effective_severity_expression(), new=new_expression, **log
    )
    changed.update(**values, updated_at=now)
    target.update(severity_override=new, updated_at=now)


def _apply_status(target: QuerySet, *, changes: dict, log: dict) -> None:
    status, now = changes["status"], log["now"]
    if status == S.RISK_ACCEPTED:
        expires = changes["risk_acceptance_expires_at"]
        history_insert(
            target,
            field="risk_acceptance",
            old=Value(""),
            new=f"until {expires.isoformat()}",
            now=now,
            actor_id=log["actor_id"],
            note=changes["risk_acceptance_justification"],
        )
        target.update(
            risk_accepted_by_id=log["actor_id"],
            risk_acceptance_justification=changes["risk_acceptance_justification"],
            risk_acceptance_expires_at=expires,
        )
    changed = target.exclude(status=status)
    history_insert(changed, field="status", old=F("status"), new=str(status), **log)
    changed.update(
        status=status,
        resolved_at=now if status == S.RESOLVED else None,
        resolved_at_scan=None,
        updated_at=now,
    )


def finding_triage(*, finding: Finding, user, changes: dict, note: str = "") -> None:
    """PATCH of one finding: like a bulk update of one, but a refusal is a ValidationError."""
    result = findings_triage(
        user=user, queryset=Finding.objects.filter(pk=finding.pk), changes=changes, note=note
    )
    if result.failed:
        raise ValidationError(result.failed[finding.pk])


def findings_bulk_triage(
    *, user, queryset: QuerySet[Finding], ids: list[int] | None, changes: dict, note: str = ""
) -> TriageResult:
    """Bulk update by ids (each id not found is a failure) or by a filtered queryset."""
    if ids is not None:
        ids = list(dict.fromkeys(ids))
        if len(ids) > BULK_UPDATE_MAX:
            raise ValidationError({"ids": [f"At most {BULK_UPDATE_MAX} ids at once."]})
        queryset = queryset.filter(pk__in=ids)
    return findings_triage(user=user, queryset=queryset, changes=changes, note=note, ids=ids)


def finding_comment_create(*, finding: Finding, author, body: str) -> FindingComment:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": ["A comment cannot be empty."]})
    return FindingComment.objects.create(finding=finding, author=author, body=body)
