"""Reads of configurations and scans, scoped to the caller's organizations."""

from django.db.models import QuerySet

from apps.core.permissions import scope_to_user

from .models import Scan, ScanConfiguration


def configurations_of(project) -> QuerySet[ScanConfiguration]:
    return ScanConfiguration.objects.filter(project=project).prefetch_related(
        "target_assets", "target_groups"
    )


def scans_for(user) -> QuerySet[Scan]:
    return scope_to_user(
        Scan.objects.filter(project__is_active=True).select_related("triggered_by"),
        user,
        "project__organization_id",
    )
