"""Findings services: ingestion (bulk upserts), lifecycle and triage, imports, exports, reports,
notifications. Import from the submodules; the ingestion entry points are re-exported here."""

from .ingestion import IngestResult, findings_ingest, findings_summary

__all__ = ["IngestResult", "findings_ingest", "findings_summary"]
