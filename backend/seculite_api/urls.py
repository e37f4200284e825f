"""URL map: the API under /api/v1/, the admin, and (in `make dev`) the single-page app."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.views import spa_index

api_v1 = [
    path("", include("apps.core.urls")),
    path("", include("apps.users.urls")),
    path("", include("apps.projects.urls")),
    path("", include("apps.scans.urls")),
    path("", include("apps.tools.urls")),
    path("", include("apps.findings.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
]

if settings.SERVE_SPA:
    # Everything that is not the API, the admin or a static file is a route of the SPA.
    urlpatterns.append(re_path(r"^(?!api/|admin/|static/|media/).*$", spa_index, name="spa"))

handler404 = "apps.core.exceptions.json_not_found"
handler500 = "apps.core.exceptions.json_server_error"
