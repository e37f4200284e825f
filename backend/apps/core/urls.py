from django.urls import path

from .views import HealthApi, MetricsApi, SystemSettingsApi

urlpatterns = [
    path("health/", HealthApi.as_view(), name="health"),
    path("metrics/", MetricsApi.as_view(), name="metrics"),
    path("system-settings/", SystemSettingsApi.as_view(), name="system-settings"),
]
