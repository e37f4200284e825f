"""Celery tasks of report imports (routed to the `scans` queue: they parse and ingest big
files). Tasks take ids and call apps.findings.services.imports."""

import contextlib
import json
import logging
import os

from celery import shared_task
from django.db import connection

from ..services import imports

logger = logging.getLogger("seculite.findings")

#: When set (benchmarks), each import appends {"scan", "statements", "batches"} to this file:
#: the SQL statements of the task, those run through Django's cursors (counted here) and those
#: the finding stage sent on the raw connection (a COPY, a merge and a TRUNCATE per batch, not
#: seen by Django), and the number of batches.
QUERY_LOG_ENV = "SECULITE_IMPORT_QUERY_LOG"


@shared_task(bind=True, name="apps.findings.jobs.imports.report_import_process", ignore_result=True)
def report_import_process(self, scan_id: int) -> None:
    """Read an uploaded report and ingest its findings (all or nothing), then finish the scan.

    A report's own problems end the import as failed inside the service; anything else that
    escapes is recorded as an internal error so the import never stays running."""
    query_log = os.environ.get(QUERY_LOG_ENV, "")
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    wrapper = connection.execute_wrapper(count) if query_log else contextlib.nullcontext()
    try:
        with wrapper:
            stats = imports.report_import_process(
                scan_id=scan_id,
                task_id=self.request.id or "",
                worker=self.request.hostname or "",
            )
    except Exception as exc:
        logger.exception("report import %s crashed", scan_id)
        try:
            imports.report_import_crashed(scan_id=scan_id, error=exc)
        except Exception:
            logger.exception("could not record the crash of report import %s", scan_id)
        raise
    if query_log:
        line = {
            "scan": scan_id,
            "statements": statements[0] + stats.get("statements", 0),
            "batches": stats.get("batches", 0),
        }
        with open(query_log, "a") as out:
            out.write(json.dumps(line) + "\n")
