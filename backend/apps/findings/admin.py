"""Findings in the admin: read only. Triage goes through the API so that every change has its
history row; the admin is for looking things up."""

from django.contrib import admin

from .models import Finding, FindingComment, FindingHistory, FindingSighting


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FindingHistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FindingHistory
    fields = ["created_at", "actor", "scan", "field", "old_value", "new_value", "note"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    ordering = ["-created_at", "-id"]


class FindingSightingInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = FindingSighting
    fields = ["seen_at", "scan", "tool_result"]
    readonly_fields = fields
    extra = 0
    max_num = 0


class FindingCommentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FindingComment
    fields = ["created_at", "author", "body"]
    readonly_fields = fields
    extra = 0
    max_num = 0


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "severity",
        "severity_override",
        "status",
        "tool_id",
        "project",
        "due_date",
        "last_seen_at",
    ]
    list_filter = ["status", "severity", "tool_id"]
    search_fields = ["title", "file_path", "rule_id", "cve", "fingerprint"]
    list_select_related = ["project"]
    raw_id_fields = [
        "project",
        "target",
        "first_seen_scan",
        "resolved_at_scan",
        "assignee",
        "risk_accepted_by",
    ]
    show_full_result_count = False  # no COUNT(*) over a million findings
    inlines = [FindingSightingInline, FindingHistoryInline, FindingCommentInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_sighting()

    @admin.display(description="last seen", ordering="sighting__seen_at")
    def last_seen_at(self, obj):
        return obj.last_seen_at
