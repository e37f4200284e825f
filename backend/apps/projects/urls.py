from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register(
    r"projects/(?P<project_pk>\d+)/targets", views.TargetAssetViewSet, basename="project-target"
)
router.register(
    r"projects/(?P<project_pk>\d+)/targetgroups",
    views.TargetGroupViewSet,
    basename="project-targetgroup",
)

urlpatterns = router.urls
