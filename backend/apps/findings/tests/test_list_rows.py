"""The findings list writes its rows by hand for speed: each must be exactly what DRF's declared
fields make of the same finding (the OpenAPI schema and the web app rely on those)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from apps.findings.models import Finding
from apps.findings.selectors import findings_list
from apps.findings.serializers import FindingListSerializer
from apps.findings.tests.reporting import make_finding

pytestmark = pytest.mark.django_db


def test_hand_written_rows_equal_the_declared_fields(world):
    p, t = world.project_a, world.target_a
    today = timezone.localdate()
    now = timezone.now()
    made = [
        make_finding(project=p, target=t),
        make_finding(
            project=p,
            target=t,
            severity="critical",
            severity_override="low",
            status="reopened",
            assignee=world.users["member"],
            due_date=today - timedelta(days=1),
            tags=["pci", "team:web"],
            cwe=79,
            cve="CVE-2024-1234",
            resolved_at=None,
            url="https://app.example.org/login?next=/",
            package_name="django",
            package_version="4.2.1",
        ),
        make_finding(
            project=p,
            target=t,
            severity="medium",
            status="resolved",
            due_date=today - timedelta(days=3),  # past due, but closed: not overdue
            resolved_at=now.replace(microsecond=0),
            line_end=None,
            title="Ünïcode \u2013 title",
        ),
        make_finding(project=p, target=t, status="confirmed", due_date=today + timedelta(days=9)),
    ]
    rows = list(findings_list(world.users["owner"]).filter(pk__in=[f.pk for f in made]))
    assert len(rows) == len(made)
    serializer = FindingListSerializer()
    for row in rows:
        fast = serializer.to_representation(row)
        declared = serializers.ModelSerializer.to_representation(serializer, row)
        assert fast == dict(declared)
        assert list(fast) == list(declared)  # the same keys in the same order
    by_id = {r.pk: serializer.to_representation(r) for r in rows}
    assert by_id[made[1].pk]["overdue"] is True
    assert by_id[made[2].pk]["overdue"] is False
    assert by_id[made[1].pk]["severity"] == "low"
    assert by_id[made[2].pk]["resolved_at"].endswith("Z")


def test_the_list_reads_no_long_text_columns(world):
    make_finding(project=world.project_a, target=world.target_a, description="x" * 10_000)
    row = findings_list(world.users["owner"]).get()
    assert "description" in row.get_deferred_fields()
    assert "code_snippet" in row.get_deferred_fields()
    assert Finding.objects.get(pk=row.pk).description == "x" * 10_000
