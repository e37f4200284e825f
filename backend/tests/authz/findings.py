"""Authorization-matrix rows of the triage API (findings list, detail, PATCH, bulk update,
comments). Read needs any role, triage member or above; other organizations answer 404."""

import uuid

from tests.test_authorization_matrix import USER, Spec, project


def finding(w, side):
    """One finding of organization `side`, made once per world."""
    from django.utils import timezone

    from apps.findings.tests.sightings import create_finding

    existing = getattr(w, f"finding_{side}", None)
    if existing is not None:
        return existing
    now = timezone.now()
    scan = w.scan_a if side == "a" else w.scan_b
    made = create_finding(
        project=project(w, side),
        target=w.repo_a if side == "a" else w.repo_b,
        tool_id="bandit",
        first_seen_scan=scan,
        last_seen_scan=scan,
        first_seen_at=now,
        last_seen_at=now,
        title="Use of eval",
        severity="high",
        severity_rank=3,
        effective_severity="high",
        fingerprint=uuid.uuid4().hex,
    )
    setattr(w, f"finding_{side}", made)
    return made


def k_finding(w, side):
    return {"pk": finding(w, side).pk}


def k_finding_nested(w, side):
    return {"finding_pk": finding(w, side).pk}


def b_bulk(w, side):
    return {"ids": [finding(w, side).pk], "changes": {"status": "confirmed", "note": "seen"}}


MATRIX = {
    ("finding-list", "GET"): Spec(USER, 200),
    ("finding-detail", "GET"): Spec("auditor", 200, setup=k_finding),
    ("finding-detail", "PATCH"): Spec(
        "member", 200, setup=k_finding, body=lambda w, s: {"status": "confirmed"}
    ),
    # The body names the findings: none of the caller's -> 404, only readable ones -> 403.
    ("finding-bulk-update", "POST"): Spec("member", 200, setup=lambda w, s: {}, body=b_bulk),
    ("finding-comments", "GET"): Spec("auditor", 200, setup=k_finding_nested),
    ("finding-comments", "POST"): Spec(
        "member", 201, setup=k_finding_nested, body=lambda w, s: {"body": "Looks real."}
    ),
}
