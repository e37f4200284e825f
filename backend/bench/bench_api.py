"""make bench-api: seed 1,000,000 findings across 50 projects on PostgreSQL and print the median
and 95th-percentile latency of the findings list (first page, page 1,000 by cursor, a filtered
list), one finding's detail, a PATCH, the dashboard summary and the 90-day trend.

The requests go through the whole Django stack (middleware, authentication, DRF, serializers) in
this process with Django's test client: the figures are the application's own latency, without
network or Gunicorn. Needs PostgreSQL (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD; defaults local).
Targets: list and detail p95 < 50 ms, dashboard < 300 ms."""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BACKEND))
# --keep NAME reuses (or creates and keeps) a seeded database, for profiling between runs.
KEEP = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
DB_NAME = KEEP or f"seculite_bench_api_{uuid.uuid4().hex[:8]}"
os.environ.update(
    DJANGO_SETTINGS_MODULE="seculite_api.settings.local",
    DB_ENGINE="postgresql",
    DB_NAME=DB_NAME,
    DJANGO_DEBUG="false",
    DJANGO_ALLOWED_HOSTS="testserver",
)
os.environ.setdefault("DB_USER", "postgres")
os.environ.setdefault("SECULITE_VAR_DIR", tempfile.mkdtemp(prefix="seculite-bench-api-"))

import psycopg
from psycopg import sql


def admin_conn():
    return psycopg.connect(
        host=os.environ.get("DB_HOST", "127.0.0.1"),
        port=int(os.environ.get("DB_PORT", "5432")),
        user=os.environ["DB_USER"],
        password=os.environ.get("DB_PASSWORD", ""),
        dbname="postgres",
        autocommit=True,
    )


SEED_SQL = """
WITH made AS (INSERT INTO findings_finding (
    project_id, target_id, tool_id, first_seen_scan_id,
    first_seen_at, created_at, updated_at, title, description, severity,
    severity_rank, severity_override, effective_severity, confidence, rule_id, cwe, cve,
    file_path, line_start, line_end, url, parameter, package_name, package_version,
    fixed_version, code_snippet, remediation, "references", extra, fingerprint, status, tags,
    risk_acceptance_justification, due_date, resolved_at, assignee_id)
SELECT p.project_id, p.target_id,
    (ARRAY['bandit','semgrep','detect-secrets','checkov','eslint'])[1 + g % 5],
    p.scan_id,
    now() - ((g % 365) || ' days')::interval,
    now(), now(),
    'Finding ' || g || ' in module ' || (g % 977), '',
    (ARRAY['info','low','medium','high','critical'])[1 + (g / 50) % 5], (g / 50) % 5, '',
    (ARRAY['info','low','medium','high','critical'])[1 + (g / 50) % 5], 'high',
    'RULE-' || (g % 311), 79 + g % 50, CASE WHEN g % 17 = 0 THEN 'CVE-2024-' || (g % 9999)
    ELSE '' END,
    'src/module_' || (g % 977) || '/file_' || (g % 53) || '.py', 1 + g % 400, 1 + g % 400,
    '', '', '', '', '', '', '', '[]', '{}', md5(g::text),
    (ARRAY['new','new','new','confirmed','in_progress','resolved','auto_resolved',
           'false_positive','risk_accepted','reopened'])[1 + (g / 250) % 10],
    '[]', '', (now() + (((g % 200) - 60) || ' days')::interval)::date,
    CASE WHEN (g / 250) % 10 IN (5, 6) THEN now() - ((g % 180) || ' days')::interval END,
    CASE WHEN g % 100 = 3 THEN __USER__ END
FROM generate_series(__START__, __STOP__) AS g
JOIN LATERAL (SELECT * FROM bench_projects WHERE n = g % 50) p ON true
RETURNING id, first_seen_scan_id)
INSERT INTO findings_findingsighting (finding_id, scan_id, seen_at, tool_result_id)
SELECT id, first_seen_scan_id, now() - ((id % 30) || ' days')::interval, NULL FROM made
"""


def seed(total: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from apps.projects.models import Project, TargetAsset
    from apps.scans.models import Scan
    from apps.users.models import Organization, OrganizationMembership

    call_command("migrate", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user("bench", "bench@example.org", "x")
    org = Organization.objects.create(name="Bench")
    OrganizationMembership.objects.create(organization=org, user=user, role="owner")
    rows = []
    for n in range(50):
        project = Project.objects.create(organization=org, name=f"project-{n}")
        target = TargetAsset.objects.create(
            project=project, name="repo", asset_type="docker_image", identifier="nginx:1"
        )
        scan = Scan.objects.create(project=project, trigger_type="manual", status="completed")
        rows.append((n, project.pk, target.pk, scan.pk))
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_projects (n int, project_id bigint, "
            "target_id bigint, scan_id bigint)"
        )
        cursor.executemany("INSERT INTO bench_projects VALUES (%s, %s, %s, %s)", rows)
        step = 200_000
        for start in range(1, total + 1, step):
            # Integers of ours, no parameters: % stays SQL's modulo operator.
            cursor.execute(
                SEED_SQL.replace("__START__", str(start))
                .replace("__STOP__", str(min(total, start + step - 1)))
                .replace("__USER__", str(user.pk))
            )
        cursor.execute("""
            INSERT INTO findings_findingsnapshot (date, project_id, severity, open_count)
            SELECT (now() - (d || ' days')::interval)::date, b.project_id, s, 1000 + d
            FROM generate_series(1, 120) d, bench_projects b,
                 unnest(ARRAY['critical','high','medium','low','info']) s""")
        # What autovacuum does after a bulk load: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded {total} findings across 50 projects in {time.monotonic() - started:.1f} s")
    return {"user": user, "projects": [r[1] for r in rows]}


def reuse() -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from apps.projects.models import Project

    call_command("migrate", interactive=False, verbosity=0)
    user = get_user_model().objects.get(username="bench")
    projects = list(Project.objects.order_by("pk").values_list("pk", flat=True))
    print(f"reusing the seeded database {DB_NAME}")
    return {"user": user, "projects": projects}


def measure(client, name: str, method: str, url: str, runs: int, body=None) -> tuple:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        if method == "GET":
            response = client.get(url)
        else:
            response = client.patch(url, body, content_type="application/json")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (name, response.status_code, response.content[:300])
    times.sort()
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return name, p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", metavar="NAME", help="reuse (or seed and keep) this database")
    args = parser.parse_args()
    with admin_conn() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    try:
        import django

        django.setup()
        from django.test import Client

        data = reuse() if exists else seed(args.findings)
        client = Client()
        client.force_login(data["user"])
        # A cursor for page 1,000 (50 per page): follow `next` links until there.
        url = "/api/v1/findings/?page_size=50"
        walk = time.monotonic()
        pages = 1
        while pages < 1000:
            following = client.get(url).json()["next"]
            if following is None:  # a small --findings run has fewer pages
                break
            url, pages = following.replace("http://testserver", ""), pages + 1
        print(f"reached page {pages:,} by following cursors in {time.monotonic() - walk:.1f} s")
        finding = client.get("/api/v1/findings/?page_size=1").json()["results"][0]["id"]
        project = data["projects"][7]
        results = [
            measure(client, "findings list, first page", "GET", "/api/v1/findings/", args.runs),
            measure(client, f"findings list, page {pages:,} (cursor)", "GET", url, args.runs),
            measure(
                client,
                "findings list, filtered",
                "GET",
                f"/api/v1/findings/?project_id={project}&severity=critical,high"
                "&status=new,confirmed",
                args.runs,
            ),
            measure(client, "finding detail", "GET", f"/api/v1/findings/{finding}/", args.runs),
            measure(
                client,
                "finding PATCH",
                "PATCH",
                f"/api/v1/findings/{finding}/",
                args.runs,
                {"tags": [f"t{uuid.uuid4().hex[:6]}"]},
            ),
            measure(client, "dashboard summary", "GET", "/api/v1/dashboard/summary/", args.runs),
            measure(
                client,
                "dashboard trend, 90 days",
                "GET",
                "/api/v1/dashboard/trend/?days=90",
                args.runs,
            ),
        ]
        print(f"\n{args.findings:,} findings, {args.runs} requests each, {os.cpu_count()} cores")
        print(f"{'request':40} {'median ms':>10} {'p95 ms':>10}  target")
        for name, p50, p95 in results:
            target = 300 if name.startswith("dashboard") else 50
            mark = "ok" if p95 < target else "MISSED"
            print(f"{name:40} {p50:10.1f} {p95:10.1f}  p95 < {target} ms {mark}")
    finally:
        from django.db import connections

        connections.close_all()
        if not KEEP:
            with admin_conn() as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(DB_NAME)
                    )
                )


if __name__ == "__main__":
    main()
