from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from apps.core.permissions import IsStaff

from .models import ToolDefinition
from .serializers import ToolDefinitionSerializer
from .services import tool_set_enabled


class ToolDefinitionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The scanners SecuLite knows, with availability; staff can disable one."""

    serializer_class = ToolDefinitionSerializer
    lookup_field = "tool_id"
    queryset = ToolDefinition.objects.filter(in_registry=True)
    filterset_fields = ["category", "available", "enabled"]

    def get_permissions(self):
        if self.action in ("update", "partial_update"):
            return [IsStaff()]
        return [IsAuthenticated()]

    def perform_update(self, serializer):
        tool_set_enabled(
            tool=serializer.instance,
            enabled=serializer.validated_data.get("enabled", serializer.instance.enabled),
        )
