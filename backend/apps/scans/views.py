"""Scan configurations (nested under projects), scans, tool results and the webhook trigger."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.core.files import protected_media_response
from apps.core.filters import CharInFilter, NumberInFilter, UtcIsoDateTimeFilter
from apps.core.permissions import OrganizationRolePermission
from apps.projects.views import ProjectNestedMixin
from apps.users.views import as_api_error

from . import selectors
from .models import Scan, ScanConfiguration, ScanToolResult, TriggerType
from .serializers import (
    ScanConfigurationSerializer,
    ScanDetailSerializer,
    ScanSerializer,
    ToolResultSerializer,
    WebhookTokenSerializer,
)
from .services import configurations, execution


def webhook_url(request, token: str) -> str:
    return request.build_absolute_uri(f"/api/v1/webhooks/scans/{token}/")


class ScanConfigurationViewSet(ProjectNestedMixin, viewsets.ModelViewSet):
    serializer_class = ScanConfigurationSerializer
    queryset = ScanConfiguration.objects.none()  # for the schema

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.configurations_of(self.project)

    def _answer(self, configuration, token, code):
        data = self.get_serializer(configuration).data
        if token:
            data["webhook_url"] = webhook_url(self.request, token)
        return Response(data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            configuration, token = configurations.configuration_create(
                project=self.project, user=request.user, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return self._answer(configuration, token, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        configuration = self.get_object()
        serializer = self.get_serializer(
            configuration, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        try:
            token = configurations.configuration_update(
                configuration=configuration, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        configuration.refresh_from_db()
        return self._answer(configuration, token, status.HTTP_200_OK)

    def perform_destroy(self, instance):
        configurations.configuration_delete(configuration=instance)

    @extend_schema(request=None, responses={201: ScanConfigurationSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request, *args, **kwargs):
        try:
            clone = configurations.configuration_clone(
                configuration=self.get_object(), user=request.user
            )
        except DjangoValidationError as exc:  # a tool disabled or gone since it was saved
            raise as_api_error(exc) from None
        return Response(self.get_serializer(clone).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: ScanSerializer})
    @action(detail=True, methods=["post"])
    def launch(self, request, *args, **kwargs):
        configuration = self.get_object()
        trigger = TriggerType.MANUAL if request.auth is None else TriggerType.API
        try:
            scan = execution.scan_launch(
                configuration=configuration, trigger_type=trigger, user=request.user
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(ScanSerializer(scan).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: WebhookTokenSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-webhook")
    def rotate_webhook(self, request, *args, **kwargs):
        token = configurations.configuration_rotate_webhook(configuration=self.get_object())
        return Response(
            {
                "webhook_url": webhook_url(request, token),
                "detail": "Copy this URL now: it is shown only once.",
            }
        )


class ScanFilter(filters.FilterSet):
    project_id = NumberInFilter(field_name="project_id")
    configuration_id = NumberInFilter(field_name="configuration_id")
    status = CharInFilter(field_name="status")
    trigger_type = CharInFilter(field_name="trigger_type")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    ordering = filters.OrderingFilter(fields=["created_at", "finished_at", "status", "id"])

    class Meta:
        model = Scan
        fields: list = []


class ScanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [OrganizationRolePermission]
    filterset_class = ScanFilter

    def get_queryset(self):
        qs = selectors.scans_for(self.request.user)
        if self.action == "retrieve":
            qs = qs.prefetch_related("tool_results")
        return qs

    def get_serializer_class(self):
        return ScanDetailSerializer if self.action == "retrieve" else ScanSerializer

    def get_permission_organization_id(self, obj):
        return (
            selectors.scans_for(self.request.user)
            .filter(pk=obj.pk)
            .values_list("project__organization_id", flat=True)
            .first()
        )

    @extend_schema(request=None, responses={200: ScanSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        try:
            scan = execution.scan_cancel(scan=self.get_object())
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(ScanSerializer(scan).data)

    @extend_schema(request=None, responses={202: ScanSerializer})
    @action(detail=True, methods=["post"])
    def rescan(self, request, *args, **kwargs):
        try:
            scan = execution.scan_rescan(scan=self.get_object(), user=request.user)
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(ScanSerializer(scan).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: ToolResultSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)  # a scan has a few: one list
    def toolresults(self, request, *args, **kwargs):
        scan = self.get_object()
        rows = ScanToolResult.objects.filter(scan=scan).order_by("id")
        return Response(ToolResultSerializer(rows, many=True).data)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                description="The raw report of the tool."
            )
        }
    )
    @action(detail=True, methods=["get"], url_path=r"toolresults/(?P<result_pk>\d+)/raw")
    def raw(self, request, result_pk=None, *args, **kwargs):
        scan = self.get_object()
        result = get_object_or_404(ScanToolResult, scan=scan, pk=result_pk)
        name = f"scan-{scan.pk}-{result.tool_id}-{result.target_id}-{result.raw_output_path}"
        return protected_media_response(
            result.raw_output_path, download_name=name.rsplit("/", 1)[-1]
        )


class WebhookTriggerApi(APIView):
    """POST with the configuration's secret URL starts a scan (for CI pipelines)."""

    permission_classes = [AllowAny]  # deliberate: the secret token in the URL authorizes
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "webhook"

    @extend_schema(request=None, responses={202: ScanSerializer})
    def post(self, request, token: str):
        configuration = configurations.configuration_for_webhook(token)
        if configuration is None:
            from rest_framework.exceptions import NotFound

            raise NotFound()
        try:
            scan = execution.scan_launch(
                configuration=configuration, trigger_type=TriggerType.WEBHOOK
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(ScanSerializer(scan).data, status=status.HTTP_202_ACCEPTED)
