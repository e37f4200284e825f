"""Finding counts kept by PostgreSQL triggers (apps.findings.counts): whatever writes findings
(create, bulk upsert, queryset update, delete, a project's cascade), the summed FindingCount rows
equal a live GROUP BY over the findings, before and after compaction."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count
from django.utils import timezone

from apps.findings import counts
from apps.findings.jobs.reports import finding_counts_compact
from apps.findings.models import SEVERITY_RANK, Finding, FindingCount, FindingDayCount
from apps.findings.tests.reporting import make_finding
from apps.users.tests.factories import ProjectFactory, TargetFactory


def live(projects) -> dict:
    rows = (
        Finding.objects.filter(project_id__in=projects)
        .order_by()
        .values("project_id", "status", "severity_rank")
        .annotate(n=Count("pk"))
    )
    return {(r["project_id"], r["status"], r["severity_rank"]): r["n"] for r in rows}


def kept(projects, statuses=None) -> dict:
    return {
        (r["project_id"], r["status"], r["severity_rank"]): r["n"]
        for r in counts.count_rows(projects, statuses)
    }


@pytest.fixture
def on_postgres(postgres_params):
    if connection.vendor != "postgresql":
        pytest.fail("DB_* names PostgreSQL but Django is not using it")


@pytest.mark.django_db
def test_every_kind_of_write_keeps_the_counts(on_postgres, world):
    p, t = world.project_a, world.target_a
    other = ProjectFactory(organization=world.org_a)
    other_target = TargetFactory(project=other)
    projects = [p.pk, other.pk]
    made = [make_finding(project=p, target=t, severity="high") for _ in range(5)]
    made += [make_finding(project=other, target=other_target, severity="low") for _ in range(3)]
    assert kept(projects) == live(projects) == {(p.pk, "new", 3): 5, (other.pk, "new", 1): 3}

    # A bulk upsert (what ingestion does): one row updated, two inserted.
    upsert = [
        Finding(
            **{
                f.attname: getattr(made[0], f.attname)
                for f in Finding._meta.concrete_fields
                if f.attname != "id"
            }
        )
    ]
    upsert[0].status = "confirmed"
    for n in range(2):
        clone = Finding(**{k: v for k, v in upsert[0].__dict__.items() if not k.startswith("_")})
        clone.fingerprint, clone.status = f"upserted-{n}", "new"
        upsert.append(clone)
    Finding.objects.bulk_create(
        upsert,
        update_conflicts=True,
        unique_fields=["project", "target", "fingerprint"],
        update_fields=["status"],
    )
    assert kept(projects) == live(projects)
    assert kept(projects)[(p.pk, "confirmed", 3)] == 1

    # A set-based update (the lifecycle's auto-resolve, a bulk triage), a severity change, a
    # model save, a delete.
    Finding.objects.filter(project=p, status="new").update(status="auto_resolved")
    Finding.objects.filter(pk=made[1].pk).update(severity_rank=SEVERITY_RANK["critical"])
    made[2].refresh_from_db()
    made[2].status = "reopened"
    made[2].save()
    Finding.objects.filter(pk=made[3].pk).delete()
    assert kept(projects) == live(projects)
    assert kept(projects, ["reopened"]) == {(p.pk, "reopened", 3): 1}

    # Folding the rows changes no count and leaves one row per key.
    rows_before = FindingCount.objects.count()
    finding_counts_compact()  # the beat task
    assert kept(projects) == live(projects)
    assert FindingCount.objects.count() < rows_before
    assert FindingCount.objects.count() == len(live(Finding.objects.values("project_id")))

    # A deleted project's findings go by cascade; its rows sum to zero and compaction drops them.
    other.delete()
    assert kept([other.pk]) == {}
    counts.compact()
    assert not FindingCount.objects.filter(project_id=other.pk).exists()
    assert kept(projects) == live(projects)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_to_one_project_neither_wait_nor_deadlock(on_postgres, world):
    """Two transactions write findings of the same keys in opposite orders at the same time:
    with counters updated in place this deadlocks; appended rows cannot."""
    p, t = world.project_a, world.target_a
    first = [make_finding(project=p, target=t, severity=s) for s in ("high", "low")]
    second = [make_finding(project=p, target=t, severity=s) for s in ("low", "high")]
    barrier = threading.Barrier(2, timeout=20)
    errors: list[BaseException] = []

    def writer(rows):
        try:
            with transaction.atomic():
                Finding.objects.filter(pk=rows[0].pk).update(status="confirmed")
                barrier.wait()  # both hold their first key's change, uncommitted
                Finding.objects.filter(pk=rows[1].pk).update(status="confirmed")
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(rows,)) for rows in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert kept([p.pk]) == live([p.pk])
    assert kept([p.pk], ["confirmed"]) == {(p.pk, "confirmed", 3): 2, (p.pk, "confirmed", 1): 2}


def test_beat_runs_the_compaction(settings):
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert finding_counts_compact.name in names


@pytest.mark.django_db
def test_day_counts_give_the_live_sla_breaches_and_remediation_times(
    on_postgres, world, monkeypatch
):
    """The SLA breaches and mean time to remediate read from the maintained day counts equal
    the ones computed from the findings themselves (the embedded database's path), through
    due date changes, resolution, reopening and deletion."""
    p, t = world.project_a, world.target_a
    now = timezone.now()
    today = timezone.localdate()
    rows = [
        make_finding(project=p, target=t, severity=s, due_date=today - timedelta(days=d))
        for s, d in (("critical", 3), ("high", 1), ("high", -5), ("low", 0))
    ]
    for days_ago, took in ((2, 4), (10, 1), (200, 7)):
        make_finding(
            project=p,
            target=t,
            severity="medium",
            status="resolved",
            first_seen_at=now - timedelta(days=days_ago + took),
            resolved_at=now - timedelta(days=days_ago),
        )
    Finding.objects.filter(pk=rows[2].pk).update(due_date=today - timedelta(days=30))
    Finding.objects.filter(pk=rows[0].pk).update(
        status="resolved", resolved_at=now, first_seen_at=now - timedelta(days=2)
    )
    Finding.objects.filter(pk=rows[1].pk).update(status="false_positive")
    Finding.objects.filter(pk=rows[3].pk).delete()

    def both(read):
        maintained = read()
        monkeypatch.setattr(counts, "maintained", lambda: False)
        live = read()
        monkeypatch.undo()
        return maintained, live

    overdue, live_overdue = both(lambda: counts.overdue_rows([p.pk], today))
    assert overdue == live_overdue == [{"severity_rank": 3, "n": 1}]
    fixed, live_fixed = both(lambda: counts.remediation_rows([p.pk], 90))
    assert sorted((r["severity_rank"], r["n"]) for r in fixed) == [(2, 2), (4, 1)]
    by_rank = {r["severity_rank"]: r for r in fixed}
    live_by_rank = {r["severity_rank"]: r for r in live_fixed}
    assert by_rank.keys() == live_by_rank.keys() == {2, 4}
    for rank in by_rank:
        assert by_rank[rank]["n"] == live_by_rank[rank]["n"]
        assert by_rank[rank]["mean_days"] == pytest.approx(live_by_rank[rank]["mean_days"])
    assert by_rank[2]["mean_days"] == pytest.approx(2.5)  # (4 + 1) / 2; 200 days ago is out
    assert by_rank[4]["mean_days"] == pytest.approx(2.0)
    counts.compact()
    assert counts.overdue_rows([p.pk], today) == [{"severity_rank": 3, "n": 1}]
    assert FindingDayCount.objects.filter(project_id=p.pk, kind="due").count() == 1
