"""Outgoing webhooks of a project and their delivery log.

projects/{project_pk}/webhooks/                       GET list, POST create
projects/{project_pk}/webhooks/{id}/                  GET, PUT, PATCH, DELETE
projects/{project_pk}/webhooks/{id}/rotate-secret/    POST: a new secret, shown once
projects/{project_pk}/webhooks/{id}/ping/             POST: queue a test delivery
projects/{project_pk}/webhooks/{id}/deliveries/       GET: the delivery log, newest first
projects/{project_pk}/webhooks/{id}/deliveries/{delivery_pk}/redeliver/   POST

Admins and owners of the project's organization manage webhooks. Every role reads them and
their delivery log, but only admins and owners see the URL in full (Slack and Teams URLs are
credentials themselves); others see its scheme and host. The signing secret is returned once,
by create and rotate-secret, never again (it is kept to sign deliveries)."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from apps.core.permissions import MANAGE, has_role, role_in
from apps.projects.views import ProjectNestedMixin
from apps.users.views import as_api_error

from ..models import ProjectWebhook, WebhookDelivery
from ..services import notifications


def redacted_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…" if parts.scheme else "…"


class ProjectWebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=notifications.EVENTS),
        required=False,
        help_text="Events to send; empty = all (scan_completed, scan_failed, new_findings, "
        "finding_assigned).",
    )
    url = serializers.CharField(
        max_length=1000,
        help_text="http(s) URL; private and loopback addresses are refused unless listed in "
        "SECULITE_ALLOWED_PRIVATE_TARGETS. Shown in full to admins and owners only.",
    )
    last_delivery_status = serializers.SerializerMethodField()
    last_delivery_at = serializers.SerializerMethodField()

    class Meta:
        model = ProjectWebhook
        fields = [
            "id",
            "project",
            "name",
            "url",
            "kind",
            "events",
            "min_severity",
            "is_active",
            "last_delivery_status",
            "last_delivery_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "project", "created_at", "updated_at"]
        extra_kwargs = {
            "min_severity": {
                "help_text": "Least severity of findings that new_findings and finding_assigned "
                "report."
            }
        }

    def get_last_delivery_status(self, obj) -> str | None:
        return getattr(obj, "last_delivery_status", None)

    def get_last_delivery_at(self, obj) -> str | None:
        value = getattr(obj, "last_delivery_at", None)
        return value.isoformat() if value else None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("can_manage"):
            data["url"] = redacted_url(instance.url)
        return data


class ProjectWebhookSecretSerializer(ProjectWebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret: shown only in this answer."
    )

    class Meta(ProjectWebhookSerializer.Meta):
        fields = [*ProjectWebhookSerializer.Meta.fields, "secret"]


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField()
    detail = serializers.CharField()


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_code",
            "error",
            "next_attempt_at",
            "delivered_at",
            "payload",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeliveryQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["pending", "delivered", "failed"], required=False, allow_blank=True
    )
    event = serializers.CharField(required=False, allow_blank=True, max_length=40)


class WebhookDeliveryPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WebhookDeliverySerializer(many=True)


class ProjectWebhookViewSet(ProjectNestedMixin, viewsets.ModelViewSet):
    serializer_class = ProjectWebhookSerializer
    queryset = ProjectWebhook.objects.none()  # for the schema; requests use get_queryset

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in permissions.SAFE_METHODS and not self._can_manage():
            raise PermissionDenied("Only admins and owners of the organization manage webhooks.")

    def _can_manage(self) -> bool:
        return has_role(role_in(self.request.user, self.project.organization_id), MANAGE)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and "project_pk" in self.kwargs:
            context["can_manage"] = self._can_manage()
        return context

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        last = WebhookDelivery.objects.filter(webhook=OuterRef("pk")).order_by("-created_at", "-id")
        return (
            ProjectWebhook.objects.filter(project=self.project)
            .annotate(
                last_delivery_status=Subquery(last.values("status")[:1]),
                last_delivery_at=Subquery(last.values("created_at")[:1]),
            )
            .order_by("name", "id")
        )

    @extend_schema(responses={201: ProjectWebhookSecretSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            webhook, secret = notifications.webhook_create(
                project=self.project, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        data = ProjectWebhookSecretSerializer(webhook, context=self.get_serializer_context()).data
        data["secret"] = secret
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        try:
            notifications.webhook_update(webhook=serializer.instance, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    def perform_destroy(self, instance):
        notifications.webhook_delete(webhook=instance)

    @extend_schema(request=None, responses={200: WebhookSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        secret = notifications.webhook_rotate_secret(webhook=self.get_object())
        return Response(
            {"secret": secret, "detail": "Copy this secret now: it is shown only once."}
        )

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, *args, **kwargs):
        delivery = notifications.webhook_ping(webhook=self.get_object(), user=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=["pending", "delivered", "failed"]),
            OpenApiParameter("event", str),
        ],
        responses={200: WebhookDeliveryPageSerializer},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, *args, **kwargs):
        webhook = self.get_object()
        rows = WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")
        # Validated like any filter: a raw value reached PostgreSQL, and a NUL character in it
        # (found by schemathesis, verify/test_fuzz.py) was a DataError answered 503.
        query = DeliveryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        for name, value in query.validated_data.items():
            if value:
                rows = rows.filter(**{name: value})
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_pk>\d+)/redeliver",
    )
    def redeliver(self, request, delivery_pk=None, *args, **kwargs):
        webhook = self.get_object()
        original = get_object_or_404(WebhookDelivery, webhook=webhook, pk=delivery_pk)
        delivery = notifications.webhook_delivery_create(
            webhook=webhook, event=original.event, payload=original.payload
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register(
    r"projects/(?P<project_pk>\d+)/webhooks", ProjectWebhookViewSet, basename="project-webhook"
)

urlpatterns = router.urls
