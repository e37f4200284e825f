from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register(
    r"projects/(?P<project_pk>\d+)/scanconfigurations",
    views.ScanConfigurationViewSet,
    basename="project-scanconfiguration",
)
router.register("scans", views.ScanViewSet, basename="scan")

urlpatterns = [
    path("webhooks/scans/<str:token>/", views.WebhookTriggerApi.as_view(), name="scan-webhook"),
    *router.urls,
]
