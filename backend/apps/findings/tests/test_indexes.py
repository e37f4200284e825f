"""Every filter and ordering of the findings list can be served by an index on PostgreSQL, and
the findings table carries no index that another one repeats (each index is written for every
finding an import sees: make bench-import).

The planner is asked with sequential scans priced out (enable_seqscan off): a filter that no index
can serve still gets a sequential scan, which the assertions catch. The search filter (a
substring of title, path or rule) is the exception: it walks the list's ordered index."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.findings.filters import ORDERINGS, FindingFilter
from apps.findings.models import Finding
from apps.findings.selectors import _segments

NOW = timezone.now().isoformat()
FILTERS = {
    "project_id": "1,2",
    "target_id": "3",
    "scan_id": "4,5",
    "tool_id": "bandit,semgrep",
    "severity": "critical,high",
    "status": "confirmed,in_progress",
    "cwe_id": "79,89",
    "cve_id": "CVE-2024-0001",
    "path": "src/app/",
    "assigned_to_user_id": "6",
    "tag": "pci",
    "first_seen_after": NOW,
    "first_seen_before": NOW,
    "last_seen_after": NOW,
    "last_seen_before": NOW,
    "overdue": "true",
}


@pytest.fixture
def planner(postgres_params):
    if connection.vendor != "postgresql":
        pytest.fail("DB_* names PostgreSQL but Django is not using it")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        yield
        transaction.set_rollback(True)


def plan(queryset) -> str:
    return queryset.explain()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_is_served_by_an_index(planner, name):
    queryset = FindingFilter({name: FILTERS[name]}, queryset=Finding.objects.all()).qs
    text = plan(queryset.order_by())
    assert "Seq Scan" not in text, text  # neither the findings nor their sightings
    # The filter's own column is in an index condition, not only a filter over another walk.
    assert "Index Cond" in text or "Bitmap Index Scan" in text, text


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", sorted(ORDERINGS))
def test_each_ordering_walks_an_index_without_sorting(planner, ordering):
    keys = [f"-{c}" if descending else c for c, descending in ORDERINGS[ordering]]
    queryset = Finding.objects.all()
    if ordering.lstrip("-") == "last_seen_at":  # the list walks the sightings' index
        ((queryset, _),) = _segments(queryset, ORDERINGS[ordering])
    text = plan(queryset.order_by(*keys)[:51])
    assert "Seq Scan" not in text, text
    assert "Sort" not in text.replace("Sort Key", ""), text


@pytest.mark.django_db
def test_the_path_prefix_uses_pattern_operators(planner):
    queryset = FindingFilter({"path": "src/"}, queryset=Finding.objects.all()).qs
    text = plan(queryset)
    assert "finding_file_path_idx" in text, text
    assert "~>=~" in text, text  # the pattern range of LIKE 'src/%', whatever the collation


@pytest.mark.django_db
def test_no_index_of_findings_repeats_another(postgres_params):
    """An index whose columns are a leading prefix of another index's (with no condition of its
    own) is written on every import for nothing; the foreign keys' own indexes were such."""
    if connection.vendor != "postgresql":
        pytest.fail("DB_* names PostgreSQL but Django is not using it")
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, i.indkey::int2[], i.indpred IS NOT NULL,
                      i.indclass::oid[], i.indoption::int2[]
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = 'findings_finding'::regclass"""
        )
        indexes = cursor.fetchall()
    assert len(indexes) <= 24, [name for name, *_ in indexes]
    repeated = []
    for name, keys, partial, classes, options in indexes:
        if partial:
            continue
        for other, other_keys, _, other_classes, other_options in indexes:
            n = len(keys)
            if (
                other != name
                and n <= len(other_keys)
                and (n < len(other_keys) or name > other)
                and list(other_keys[:n]) == list(keys)
                and list(other_classes[:n]) == list(classes)
                and list(other_options[:n]) == list(options)
            ):
                repeated.append((name, other))
    assert repeated == []
