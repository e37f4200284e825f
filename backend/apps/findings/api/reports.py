"""Reports, dashboards and exports API. Everything here reads (any role, auditors included) and
is scoped to the caller's organizations: a scan or project of another one answers 404.

- GET scans/{id}/export/?format=csv|json|sarif&<list filters>   findings present in the scan
- GET projects/{id}/export/?format=...&<list filters>           findings of the project
- GET findings/export/?format=...&<list filters>                the findings list's filter
- GET scans/{id}/report/             the scan summary
- GET scans/{id}/compare/?base={id}  new / fixed / unchanged against base (default: the
                                     previous finished scan of the same configuration)
- GET projects/{id}/posture/         the project's posture
- GET dashboard/summary/?project_id=&days=90
- GET dashboard/trend/?project_id=&days=30 (or date_from=&date_to=)

Exports are streamed (StreamingHttpResponse) as attachments; `format` defaults to csv."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.projects.selectors import project_for
from apps.scans.selectors import scans_for
from apps.users.views import as_api_error

from ..filters import DEFAULT_ORDERING, ORDERINGS, FindingFilter
from ..models import Finding, FindingStatus, Severity
from ..services import exports, reports


class ExportNegotiation(DefaultContentNegotiation):
    """Here `?format=` names the export format, not a DRF renderer (errors stay JSON)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=list(exports.FORMATS),
    default="csv",
    description="csv (formula-safe cells), json, or sarif (SARIF 2.1.0, one run per tool).",
)
EXPORT_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(
        response=OpenApiTypes.STR, description="The findings as CSV, streamed."
    ),
    (200, "application/json"): OpenApiResponse(
        response=OpenApiTypes.OBJECT, description='{"generated_at", "findings": [...]}, streamed.'
    ),
    (200, "application/sarif+json"): OpenApiResponse(
        response=OpenApiTypes.OBJECT, description="A SARIF 2.1.0 log, streamed."
    ),
}


class _ExportApi(generics.GenericAPIView):
    """Shared by the three exports: the list's filters, the format, the streamed answer."""

    content_negotiation_class = ExportNegotiation
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = FindingFilter
    pagination_class = None
    queryset = Finding.objects.none()  # for the schema

    def export(self, queryset, *, name: str, scan=None):
        fmt = self.request.query_params.get("format") or "csv"
        if fmt not in exports.FORMATS:
            raise serializers.ValidationError(
                {"format": [f"Use one of: {', '.join(exports.FORMATS)}."]}
            )
        queryset = self.filter_queryset(queryset)
        # The list's ordering (the list applies it in its keyset pagination, not as a filter).
        ordering = self.request.query_params.get("ordering") or DEFAULT_ORDERING
        keys = ORDERINGS.get(ordering, ORDERINGS[DEFAULT_ORDERING])
        # last_seen_at is the sighting's (an annotation of the list, a join here).
        columns = [("sighting__seen_at" if c == "last_seen_at" else c, d) for c, d in keys]
        queryset = queryset.order_by(*[f"-{c}" if desc else c for c, desc in columns])
        export = exports.findings_export(queryset=queryset, fmt=fmt, name=name, scan=scan)
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in export.chunks), content_type=export.content_type
        )
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


def _scan(request, pk):
    scan = scans_for(request.user).select_related("project", "configuration").filter(pk=pk).first()
    if scan is None:
        raise NotFound()
    return scan


def _project(request, pk):
    project = project_for(request.user, pk)
    if project is None:
        raise NotFound()
    return project


class ScanExportApi(_ExportApi):
    """The findings present in a scan, optionally narrowed by the list's filters."""

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=EXPORT_RESPONSES)
    def get(self, request, pk: int):
        scan = _scan(request, pk)
        return self.export(reports.findings_in_scan(scan), name=f"scan-{scan.pk}", scan=scan)


class ProjectExportApi(_ExportApi):
    """The findings of a project, optionally narrowed by the list's filters."""

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=EXPORT_RESPONSES)
    def get(self, request, pk: int):
        project = _project(request, pk)
        return self.export(Finding.objects.filter(project=project), name=f"project-{project.pk}")


class FindingsExportApi(_ExportApi):
    """The findings the list shows for the same filters, in every project of the caller."""

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=EXPORT_RESPONSES)
    def get(self, request):
        return self.export(reports.findings_for(request.user), name="all")


# --- response shapes (documentation of the dict answers) ----------------------------------------
class SeverityCountsSerializer(serializers.Serializer):
    critical = serializers.IntegerField()
    high = serializers.IntegerField()
    medium = serializers.IntegerField()
    low = serializers.IntegerField()
    info = serializers.IntegerField()


class OpenStatusCountsSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    reopened = serializers.IntegerField()


class StatusCountsSerializer(OpenStatusCountsSerializer):
    false_positive = serializers.IntegerField()
    risk_accepted = serializers.IntegerField()
    resolved = serializers.IntegerField()
    auto_resolved = serializers.IntegerField()


class MttrEntrySerializer(serializers.Serializer):
    mean_days = serializers.FloatField(allow_null=True)
    count = serializers.IntegerField()


class MttrBySeveritySerializer(serializers.Serializer):
    critical = MttrEntrySerializer()
    high = MttrEntrySerializer()
    medium = MttrEntrySerializer()
    low = MttrEntrySerializer()
    info = MttrEntrySerializer()


class MttrSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="Findings closed in the last `days` days.")
    by_severity = MttrBySeveritySerializer()


class SlaBreachesSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_severity = SeverityCountsSerializer()


class ScanBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project_id = serializers.IntegerField(required=False)
    project = serializers.CharField(required=False)
    status = serializers.CharField()
    trigger_type = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField(allow_null=True)
    new = serializers.IntegerField(allow_null=True)


class FindingBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    status = serializers.ChoiceField(choices=FindingStatus.choices)


class CompareItemSerializer(FindingBriefSerializer):
    tool_id = serializers.CharField()
    target_id = serializers.IntegerField()
    fingerprint = serializers.CharField()
    file_path = serializers.CharField()
    line_start = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()
    package_name = serializers.CharField()


class AssignedItemSerializer(FindingBriefSerializer):
    project_id = serializers.IntegerField()
    due_date = serializers.DateField(allow_null=True)


class AssignedSerializer(serializers.Serializer):
    open = serializers.IntegerField()
    by_severity = SeverityCountsSerializer()
    items = AssignedItemSerializer(many=True)


class TopProjectSerializer(serializers.Serializer):
    project_id = serializers.IntegerField()
    name = serializers.CharField()
    risk_score = serializers.IntegerField()
    open_by_severity = SeverityCountsSerializer()


class DashboardSummarySerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    project_id = serializers.IntegerField(allow_null=True)
    open = serializers.IntegerField()
    open_by_severity = SeverityCountsSerializer()
    open_by_status = OpenStatusCountsSerializer()
    sla_breaches = SlaBreachesSerializer(help_text="Open findings whose due date has passed.")
    mttr = MttrSerializer(help_text="Mean days from first sighting to resolution.")
    top_projects = TopProjectSerializer(many=True)
    risk_weights = serializers.DictField(child=serializers.IntegerField())
    recent_scans = ScanBriefSerializer(many=True)
    assigned_to_me = AssignedSerializer()


class TrendPointSerializer(SeverityCountsSerializer):
    date = serializers.DateField()
    total = serializers.IntegerField()


class DashboardTrendSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    project_id = serializers.IntegerField(allow_null=True)
    snapshots_since = serializers.DateField(allow_null=True)
    points = TrendPointSerializer(many=True)


class ScanReportSerializer(serializers.Serializer):
    scan = serializers.DictField()
    configuration = serializers.DictField(allow_null=True)
    targets = serializers.ListField(child=serializers.DictField())
    tools = serializers.ListField(child=serializers.DictField())
    counts = serializers.DictField(
        help_text="total, by_severity (present in the scan), new, new_by_severity, recurring, "
        "resolved, resolved_by_severity (resolved_at_scan is this scan)."
    )


class CompareSetSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    by_severity = SeverityCountsSerializer()
    items = CompareItemSerializer(many=True)


class ScanCompareSerializer(serializers.Serializer):
    base = serializers.DictField()
    head = serializers.DictField()
    new = CompareSetSerializer()
    fixed = CompareSetSerializer()
    unchanged = CompareSetSerializer()


class ProjectPostureSerializer(serializers.Serializer):
    project = serializers.DictField()
    open = serializers.IntegerField()
    open_by_severity = SeverityCountsSerializer()
    by_status = StatusCountsSerializer()
    open_by_tool = serializers.ListField(child=serializers.DictField())
    open_by_target = serializers.ListField(child=serializers.DictField())
    sla_breaches = SlaBreachesSerializer()
    risk_score = serializers.IntegerField()
    oldest_open_since = serializers.DateTimeField(allow_null=True)
    mttr = MttrSerializer()
    last_scans = ScanBriefSerializer(many=True)


# --- query parameters ---------------------------------------------------------------------------
class SummaryQuerySerializer(serializers.Serializer):
    project_id = serializers.IntegerField(required=False, min_value=1)
    days = serializers.IntegerField(
        required=False, min_value=1, max_value=3650, default=90, help_text="MTTR window."
    )


TREND_FIRST_DAY, TREND_LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)


class TrendQuerySerializer(serializers.Serializer):
    project_id = serializers.IntegerField(required=False, min_value=1)
    days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=reports.MAX_TREND_DAYS,
        default=30,
        help_text="The last `days` days up to today, when date_from is not given.",
    )
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False, help_text="Default: today.")

    def validate(self, attrs):
        # A day past 9999-12-30 or a range reaching back before year 1 overflows Python's dates.
        for name in ("date_from", "date_to"):
            value = attrs.get(name)
            if value is not None and not TREND_FIRST_DAY <= value <= TREND_LAST_DAY:
                raise serializers.ValidationError(
                    {name: [f"Use a date from {TREND_FIRST_DAY} to {TREND_LAST_DAY}."]}
                )
        return attrs


class CompareQuerySerializer(serializers.Serializer):
    base = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The scan to compare with; default: the previous finished scan of the same "
        "project and configuration.",
    )
    limit = serializers.IntegerField(required=False, min_value=0, max_value=500, default=100)


def _query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _project_filter(request, project_id):
    """A project_id filter must name one of the caller's projects (else 404)."""
    if project_id is not None:
        _project(request, project_id)
    return project_id


# --- reports ------------------------------------------------------------------------------------
class ScanReportApi(APIView):
    @extend_schema(responses={200: ScanReportSerializer})
    def get(self, request, pk: int):
        return Response(reports.scan_report(scan=_scan(request, pk)))


class ScanCompareApi(APIView):
    @extend_schema(parameters=[CompareQuerySerializer], responses={200: ScanCompareSerializer})
    def get(self, request, pk: int):
        head = _scan(request, pk)
        query = _query(CompareQuerySerializer, request)
        if query.get("base"):
            base = scans_for(request.user).filter(pk=query["base"]).first()
            if base is None:
                raise serializers.ValidationError({"base": ["No such scan."]})
        else:
            base = reports.previous_scan(head)
            if base is None:
                raise serializers.ValidationError(
                    {"base": ["This scan has no earlier finished scan: name one in `base`."]}
                )
        try:
            data = reports.scan_compare(head=head, base=base, limit=query["limit"])
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(data)


class ProjectPostureApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("days", OpenApiTypes.INT, description="MTTR window (default 90).")
        ],
        responses={200: ProjectPostureSerializer},
    )
    def get(self, request, pk: int):
        project = _project(request, pk)
        days = _query(SummaryQuerySerializer, request)["days"]
        return Response(reports.project_posture(project=project, days=days))


class DashboardSummaryApi(APIView):
    """Open findings by severity and status, SLA breaches, MTTR, top projects by risk (score =
    10 x critical + 5 x high + 2 x medium + 1 x low open findings), recent scans, and the
    caller's assigned findings; all projects of the caller, or one (`project_id`)."""

    @extend_schema(parameters=[SummaryQuerySerializer], responses={200: DashboardSummarySerializer})
    def get(self, request):
        query = _query(SummaryQuerySerializer, request)
        project_id = _project_filter(request, query.get("project_id"))
        return Response(
            reports.dashboard_summary(user=request.user, project_id=project_id, days=query["days"])
        )


class DashboardTrendApi(APIView):
    """Open findings by severity for each day of the range (snapshots; today live)."""

    @extend_schema(parameters=[TrendQuerySerializer], responses={200: DashboardTrendSerializer})
    def get(self, request):
        query = _query(TrendQuerySerializer, request)
        project_id = _project_filter(request, query.get("project_id"))
        date_to = query.get("date_to") or timezone.localdate()
        date_from = query.get("date_from") or date_to - timedelta(days=query["days"] - 1)
        try:
            data = reports.dashboard_trend(
                user=request.user, date_from=date_from, date_to=date_to, project_id=project_id
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(data)


urlpatterns = [
    path("findings/export/", FindingsExportApi.as_view(), name="finding-export"),
    path("scans/<int:pk>/export/", ScanExportApi.as_view(), name="scan-export"),
    path("scans/<int:pk>/report/", ScanReportApi.as_view(), name="scan-report"),
    path("scans/<int:pk>/compare/", ScanCompareApi.as_view(), name="scan-compare"),
    path("projects/<int:pk>/export/", ProjectExportApi.as_view(), name="project-export"),
    path("projects/<int:pk>/posture/", ProjectPostureApi.as_view(), name="project-posture"),
    path("dashboard/summary/", DashboardSummaryApi.as_view(), name="dashboard-summary"),
    path("dashboard/trend/", DashboardTrendApi.as_view(), name="dashboard-trend"),
]
