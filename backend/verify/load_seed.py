"""Seed many findings into a live stack's database at once, the way bench/bench_api.py does:
one INSERT ... SELECT over generate_series per batch, then VACUUM ANALYZE (what autovacuum would
do after a bulk load), so that the API is measured on realistic plans."""

from __future__ import annotations

import time

import psycopg

SEED_SQL = """
WITH made AS (INSERT INTO findings_finding (
    project_id, target_id, tool_id, first_seen_scan_id,
    first_seen_at, created_at, updated_at, title, description, severity,
    severity_rank, severity_override, effective_severity, confidence, rule_id, cwe, cve,
    file_path, line_start, line_end, url, parameter, package_name, package_version,
    fixed_version, code_snippet, remediation, "references", extra, fingerprint, status, tags,
    risk_acceptance_justification, due_date)
SELECT %(project)s::bigint, %(target)s::bigint,
    (ARRAY['bandit','semgrep','detect-secrets','checkov','eslint'])[1 + g %% 5],
    %(scan)s::bigint,
    now() - ((g %% 365) || ' days')::interval,
    now(), now(),
    'Finding ' || g || ' in module ' || (g %% 977),
    'Seeded for the load suite: ' || repeat('lorem ipsum ', 1 + g %% 20),
    (ARRAY['info','low','medium','high','critical'])[1 + (g * 7) %% 5], (g * 7) %% 5, '',
    (ARRAY['info','low','medium','high','critical'])[1 + (g * 7) %% 5], 'high',
    'RULE-' || (g %% 311), 79 + g %% 50,
    CASE WHEN g %% 17 = 0 THEN 'CVE-2024-' || (g %% 9999) ELSE '' END,
    'src/module_' || (g %% 977) || '/file_' || (g %% 53) || '.py', 1 + g %% 400, 1 + g %% 400,
    '', '', '', '', '', 'x = run(' || g || ')', '', '[]', '{}', md5('load-' || g),
    (ARRAY['new','new','new','confirmed','in_progress','resolved','auto_resolved',
           'false_positive','risk_accepted','reopened'])[1 + g %% 10],
    '[]', '', (now() + (((g %% 200) - 60) || ' days')::interval)::date
FROM generate_series(%(start)s::int, %(stop)s::int) AS g
RETURNING id, first_seen_scan_id)
INSERT INTO findings_findingsighting (finding_id, scan_id, seen_at, tool_result_id)
SELECT id, first_seen_scan_id, now() - ((id %% 30) || ' days')::interval, NULL FROM made
"""


def seed_findings(db: dict, *, project: int, target: int, scan: int, total: int) -> float:
    """Insert `total` findings of one project and target; returns the seconds it took."""
    started = time.monotonic()
    step = 50_000
    with psycopg.connect(**db, autocommit=True) as conn:
        for start in range(1, total + 1, step):
            conn.execute(
                SEED_SQL,
                {
                    "project": project,
                    "target": target,
                    "scan": scan,
                    "start": start,
                    "stop": min(total, start + step - 1),
                },
            )
        conn.execute("VACUUM ANALYZE findings_finding")
        conn.execute("VACUUM ANALYZE findings_findingsighting")
    return time.monotonic() - started
