"""Projects, and the target assets and target groups nested under them."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.functional import cached_property
from django_filters import rest_framework as filters
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, PermissionDenied

from apps.core.permissions import WRITE, OrganizationRolePermission, has_role, role_in
from apps.users.views import as_api_error

from . import selectors, services
from .models import Project, TargetAsset, TargetGroup
from .serializers import (
    ProjectSerializer,
    ProjectUpdateSerializer,
    TargetAssetSerializer,
    TargetGroupSerializer,
)


class ProjectFilter(filters.FilterSet):
    organization_id = filters.NumberFilter(field_name="organization_id")
    name = filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Project
        fields: list = []


class ProjectViewSet(viewsets.ModelViewSet):
    permission_classes = [OrganizationRolePermission]
    filterset_class = ProjectFilter

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return ProjectUpdateSerializer
        return ProjectSerializer

    def get_queryset(self):
        return selectors.projects_for(self.request.user)

    def get_permission_organization_id(self, obj):
        return obj.organization_id

    def perform_create(self, serializer):
        user = self.request.user
        org = serializer.validated_data.get("organization")
        if org is None:
            membership = user.memberships.filter(
                organization__is_personal=True, organization__is_active=True
            ).first()
            if membership is None:
                raise as_api_error(
                    DjangoValidationError(
                        {"organization": ["Name the organization of the project."]}
                    )
                )
            org = membership.organization
        role = role_in(user, org.pk)
        if role is None:
            # Existence of other organizations is not revealed.
            raise as_api_error(
                DjangoValidationError(
                    {"organization": [f'Invalid pk "{org.pk}" - object does not exist.']}
                )
            )
        if not has_role(role, WRITE):
            raise PermissionDenied("Your role in this organization does not allow this.")
        try:
            serializer.instance = services.project_create(
                organization=org,
                name=serializer.validated_data["name"],
                description=serializer.validated_data.get("description", ""),
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    def perform_update(self, serializer):
        try:
            services.project_update(project=serializer.instance, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    def perform_destroy(self, instance):
        services.project_delete(project=instance)


class ProjectNestedMixin:
    """Under projects/{project_pk}/: the project must be one of the caller's (else 404);
    reading needs any role, writing needs member or above (auditors read only)."""

    permission_classes = [OrganizationRolePermission]

    @cached_property
    def project(self) -> Project:
        project = selectors.project_for(self.request.user, self.kwargs["project_pk"])
        if project is None:
            raise NotFound()
        return project

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        needed = WRITE if request.method not in ("GET", "HEAD", "OPTIONS") else "auditor"
        if not has_role(role_in(request.user, self.project.organization_id), needed):
            raise PermissionDenied("Your role in this organization does not allow this.")

    def get_permission_organization_id(self, obj):
        return self.project.organization_id


class TargetAssetViewSet(ProjectNestedMixin, viewsets.ModelViewSet):
    serializer_class = TargetAssetSerializer
    filterset_fields = ["asset_type", "is_active"]
    queryset = TargetAsset.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.targets_of(self.project)

    def perform_create(self, serializer):
        try:
            serializer.instance = services.target_create(
                project=self.project, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    def perform_update(self, serializer):
        try:
            services.target_update(target=serializer.instance, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None


class TargetGroupViewSet(ProjectNestedMixin, viewsets.ModelViewSet):
    serializer_class = TargetGroupSerializer
    queryset = TargetGroup.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.target_groups_of(self.project)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = services.target_group_create(
                project=self.project,
                name=data["name"],
                description=data.get("description", ""),
                target_ids=data.get("targets", []),
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "targets" in data:
            data["target_ids"] = data.pop("targets")
        try:
            services.target_group_update(group=serializer.instance, **data)
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
