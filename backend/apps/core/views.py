"""Platform endpoints: health, metrics, and the single-page app's index for `make dev`."""

from django.conf import settings
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import RetrieveUpdateAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import SystemSettings
from .permissions import IsStaff, MetricsAccess
from .selectors import health_report
from .serializers import SystemSettingsSerializer


class HealthApi(APIView):
    """Liveness of the parts SecuLite needs. No authentication: compose healthchecks use it."""

    # Deliberately public: load balancers and compose healthchecks call it without credentials.
    # It reveals only "ok"/"unavailable" and a worker count.
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(
        responses={
            200: inline_serializer(
                "Health",
                {
                    "database": serializers.CharField(),
                    "broker": serializers.CharField(),
                    "workers": serializers.IntegerField(),
                    "beat_last_seen": serializers.DateTimeField(allow_null=True),
                },
            ),
            503: inline_serializer(
                "HealthFailure",
                {
                    "database": serializers.CharField(),
                    "broker": serializers.CharField(),
                    "workers": serializers.IntegerField(),
                    "beat_last_seen": serializers.DateTimeField(allow_null=True),
                    "detail": serializers.CharField(),
                    "errors": serializers.DictField(),
                    "error_code": serializers.CharField(),
                },
            ),
        }
    )
    def get(self, request):
        report = health_report(ping_timeout=settings.SECULITE_HEALTH_PING_TIMEOUT)
        body = {
            "database": report.database,
            "broker": report.broker,
            "workers": report.workers,
            "beat_last_seen": report.beat_last_seen,
        }
        if report.healthy:
            return Response(body, headers={"Cache-Control": "no-store"})
        failed = ", ".join(report.errors)
        body.update(
            detail=f"Unavailable: {failed}.",
            errors=report.errors,
            error_code="service_unavailable",
        )
        return Response(
            body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Cache-Control": "no-store"}
        )


class _ErrorsAsJson(DefaultContentNegotiation):
    """Whatever a scraper accepts: the metrics are text, errors are the API's JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class MetricsApi(APIView):
    """Prometheus metrics (text format 0.0.4): from SECULITE_METRICS_ALLOWED_IPS, or with a
    platform staff user's API key or session."""

    permission_classes = [MetricsAccess]
    throttle_classes: list = []
    content_negotiation_class = _ErrorsAsJson

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(
                response=OpenApiTypes.STR, description="Prometheus text exposition format 0.0.4."
            )
        }
    )
    def get(self, request):
        from . import metrics

        return HttpResponse(
            metrics.render(),
            content_type=metrics.CONTENT_TYPE,
            headers={"Cache-Control": "no-store"},
        )


class SystemSettingsApi(RetrieveUpdateAPIView):
    """The platform's settings (SMTP and more); platform staff only."""

    permission_classes = [IsStaff]
    serializer_class = SystemSettingsSerializer

    def get_object(self):
        return SystemSettings.load()


def spa_index(request, *args, **kwargs):
    """Serve the built SPA's index.html for every client-side route (never cached)."""
    index = settings.SPA_DIST_DIR / "index.html"
    if not index.is_file():
        return HttpResponse(
            "The web app is not built yet: run `make dev` (or `npm run build` in frontend/).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = FileResponse(index.open("rb"), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
