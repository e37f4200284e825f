"""Helpers of the import tests: upload a report through the API with the worker's task run
in-process (Celery eager, on commit), then read back the scan and its findings."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

CORPUS = Path(__file__).resolve().parent / "corpus"
PLUGINS = Path(__file__).resolve().parents[2] / "tools" / "plugins"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(client, project, content: bytes, name: str = "report.json", **fields):
    """POST the report; the import task runs when the request's transaction commits."""
    report = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    data = {"file": report, **{k: v for k, v in fields.items() if v is not None}}
    return client.post(f"/api/v1/projects/{project.pk}/imports/", data, format="multipart")


def import_report(client, project, content: bytes, capture, name="report.json", **fields):
    """Upload, run the worker's task, and return (response, scan row)."""
    from apps.scans.models import Scan

    with capture(execute=True):
        response = upload(client, project, content, name, **fields)
    assert response.status_code == 202, response.content[:500]
    return response, Scan.objects.get(pk=response.json()["id"])


def fixture(slug: str, name: str) -> Path:
    """A plugin's real sample report (trivy-fs and its siblings share the trivy folder)."""
    folder = PLUGINS / slug.replace("-", "_")
    if not folder.is_dir():
        folder = PLUGINS / slug.split("-")[0]
    return folder / "tests" / "fixtures" / name
