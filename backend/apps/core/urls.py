from django.urls import path

from .views import HealthApi, SystemSettingsApi

urlpatterns = [
    path("health/", HealthApi.as_view(), name="health"),
    path("system-settings/", SystemSettingsApi.as_view(), name="system-settings"),
]
