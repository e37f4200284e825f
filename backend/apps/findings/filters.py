"""The findings list's filters (query parameters), also used by bulk updates and exports.

Several values are comma-separated (`?status=new,reopened`). `severity` is the effective
severity (the analyst's override, else the scanner's). `scan_id` matches findings that scan
found for the first time or was the last to see; `overdue=true` means open and past its due
date. Ordering is not a filter: the list's keyset pagination applies it (see ORDERINGS)."""

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_filters import rest_framework as filters

from apps.core.filters import CharInFilter, NumberInFilter, UtcIsoDateTimeFilter, in_int64

from .models import (
    OPEN_STATUSES,
    SEVERITY_RANK,
    Finding,
    FindingSighting,
    FindingStatus,
    Severity,
)

#: ordering parameter -> (column, descending) keys; the last key is always the unique id.
ORDERINGS: dict[str, tuple[tuple[str, bool], ...]] = {
    "-severity": (("severity_rank", True), ("id", True)),
    "severity": (("severity_rank", False), ("id", False)),
    "-id": (("id", True),),
    "id": (("id", False),),
    "-first_seen_at": (("first_seen_at", True), ("id", True)),
    "first_seen_at": (("first_seen_at", False), ("id", False)),
    "-last_seen_at": (("last_seen_at", True), ("id", True)),
    "last_seen_at": (("last_seen_at", False), ("id", False)),
    "due_date": (("due_date", False), ("id", False)),
    "-due_date": (("due_date", True), ("id", True)),
}
DEFAULT_ORDERING = "-severity"
#: What django-filter's BooleanWidget reads as true or false.
_BOOLEAN_WORDS = {"true", "false", "1", "0"}


class ChoiceInFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """`?severity=critical,high`: each value must be one of the choices."""


class FindingFilter(filters.FilterSet):
    project_id = NumberInFilter(field_name="project_id")
    target_id = NumberInFilter(field_name="target_id")
    scan_id = NumberInFilter(
        method="filter_scan",
        help_text="Findings the scan found first or was the last to see.",
    )
    tool_id = CharInFilter(field_name="tool_id")
    severity = ChoiceInFilter(
        choices=Severity.choices,
        method="filter_severity",
        help_text="The effective severity: the analyst's override, else the scanner's.",
    )
    status = ChoiceInFilter(field_name="status", choices=FindingStatus.choices)
    cwe_id = NumberInFilter(field_name="cwe")
    cve_id = CharInFilter(method="filter_cve")
    path = filters.CharFilter(
        field_name="file_path", lookup_expr="startswith", help_text="A prefix of the file path."
    )
    assigned_to_user_id = NumberInFilter(field_name="assignee_id")
    tag = CharInFilter(method="filter_tag", help_text="Findings with any of these tags.")
    first_seen_after = UtcIsoDateTimeFilter(field_name="first_seen_at", lookup_expr="gte")
    first_seen_before = UtcIsoDateTimeFilter(field_name="first_seen_at", lookup_expr="lt")
    last_seen_after = UtcIsoDateTimeFilter(field_name="sighting__seen_at", lookup_expr="gte")
    last_seen_before = UtcIsoDateTimeFilter(field_name="sighting__seen_at", lookup_expr="lt")
    overdue = filters.BooleanFilter(
        method="filter_overdue", help_text="Open and past its due date (true), or not (false)."
    )
    search = filters.CharFilter(method="filter_search", help_text="In title, file path and rule.")
    ordering = filters.ChoiceFilter(
        choices=[(name, name) for name in ORDERINGS],
        method="filter_ordering",
        help_text="Severity sorts by rank of the effective severity (critical first with "
        "-severity, the default); every ordering ends with id, so pages are stable.",
    )

    class Meta:
        model = Finding
        fields: list = []

    def is_valid(self) -> bool:
        # django-filter reads a boolean it does not know ("maybe") as no filter at all: the
        # caller would get every finding for the ones they asked for.
        valid = self.form.is_valid()
        raw = self.data.get("overdue")
        if raw not in (None, "") and str(raw).strip().lower() not in _BOOLEAN_WORDS:
            self.form.add_error("overdue", "Use true or false.")
            valid = False
        return valid and self.is_bound

    def filter_scan(self, queryset, name, value):
        value = in_int64(value)
        if not value:
            return queryset.none()
        # One id set from two indexes (the sightings' scan, the findings' first scan): an OR
        # across the join would read every finding.
        seen = FindingSighting.objects.filter(scan_id__in=value).values("finding_id")
        first = Finding.objects.filter(first_seen_scan_id__in=value).values("id")
        return queryset.filter(pk__in=seen.union(first))

    def filter_severity(self, queryset, name, value):
        ranks = [SEVERITY_RANK[v] for v in value if v]  # "high," has an empty item
        return queryset.filter(severity_rank__in=ranks) if ranks else queryset

    def filter_cve(self, queryset, name, value):
        return queryset.filter(cve__in=[v.strip().upper() for v in value])

    def filter_tag(self, queryset, name, value):
        tags = [v.strip().lower() for v in value if v.strip()]
        if not tags:
            return queryset
        condition = Q()
        for tag in tags:
            if connection.vendor == "postgresql":
                condition |= Q(tags__contains=[tag])
            else:  # SQLite has no JSON containment; tags are validated plain strings
                condition |= Q(tags__icontains=f'"{tag}"')
        # The condition of the tags' partial index (PostgreSQL), so the planner can use it.
        return queryset.filter(condition).exclude(tags=[])

    def filter_overdue(self, queryset, name, value):
        late = Q(status__in=OPEN_STATUSES, due_date__lt=timezone.localdate())
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(file_path__icontains=value) | Q(rule_id__icontains=value)
        )

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied by the keyset pagination
