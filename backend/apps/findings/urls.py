"""Findings URLs: one module per area under apps/findings/api/."""

from apps.findings.api import imports, notifications, reports, triage

urlpatterns = [
    *triage.urlpatterns,
    *imports.urlpatterns,
    *reports.urlpatterns,
    *notifications.urlpatterns,
]
