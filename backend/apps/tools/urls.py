from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("tooldefinitions", views.ToolDefinitionViewSet, basename="tooldefinition")
urlpatterns = router.urls
