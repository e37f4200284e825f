"""Triage API: the findings list (filters, ordering, keyset cursor), a finding's detail with
history and comments, PATCH, bulk updates, and comments.

- GET  findings/                     filters in apps.findings.filters; `ordering`; `cursor`
- GET  findings/{id}/                the full record, the latest history rows and comments
- PATCH findings/{id}/               status, severity_override, assignee_id, due_date, tags, note
- POST findings/bulk_update/         {"ids": [...]} or {"filter": {...}}, and "changes": {...}
- GET/POST findings/{id}/comments/

Reading needs any role in the finding's organization, writing member or above (auditors read
only: 403); findings of other organizations are not found (404)."""

import base64
import binascii
import json
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from apps.core.pagination import MAX_PAGE_SIZE
from apps.core.permissions import READ, WRITE, OrganizationRolePermission, has_role, role_in
from apps.users.views import as_api_error

from .. import selectors
from ..filters import DEFAULT_ORDERING, ORDERINGS, FindingFilter
from ..models import Finding, FindingComment
from ..serializers import (
    FindingBulkResultSerializer,
    FindingBulkUpdateSerializer,
    FindingCommentSerializer,
    FindingDetailSerializer,
    FindingListSerializer,
    FindingTriageSerializer,
)
from ..services import triage

ROLE_DENIED = "Your role in this organization does not allow this."


class FindingCursorPagination(BasePagination):
    """Keyset pagination: `{"next", "previous", "results"}` where the links carry an opaque
    `cursor` (the ordering keys of the row at the page's edge). Each page is one index range
    scan after that key, so page 1,000 costs what page 1 does; pages stay stable when findings
    are added. `page_size` up to 500."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self._page_size(request)
        ordering = request.query_params.get("ordering") or DEFAULT_ORDERING
        self.ordering = ordering if ordering in ORDERINGS else DEFAULT_ORDERING
        cursor = self._decode(request.query_params.get(self.cursor_query_param))
        key, backwards = (cursor["k"], cursor["b"]) if cursor else (None, False)
        try:
            rows, more = selectors.findings_page(
                queryset,
                ordering=self.ordering,
                after=key,
                backwards=backwards,
                limit=self.page_size,
            )
        except (ValueError, TypeError):
            raise NotFound("Invalid cursor.") from None
        if backwards:
            self.has_previous, self.has_next = more, True
        else:
            self.has_previous, self.has_next = cursor is not None, more
        self.first_key = selectors.key_of(rows[0], self.ordering) if rows else key
        self.last_key = selectors.key_of(rows[-1], self.ordering) if rows else None
        return rows

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        default = settings.REST_FRAMEWORK.get("PAGE_SIZE") or 50
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise NotFound(f"Invalid page_size: {raw!r} is not a positive integer.")
        return min(value, self.max_page_size)

    def _decode(self, raw: str | None) -> dict | None:
        if not raw:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
        except (binascii.Error, ValueError, UnicodeError):
            raise NotFound("Invalid cursor.") from None
        if (
            not isinstance(data, dict)
            or data.get("o") != self.ordering
            or not isinstance(data.get("k"), list)
            or not isinstance(data.get("b"), bool)
        ):
            raise NotFound("Invalid cursor.")
        return data

    def _link(self, key, backwards: bool) -> str:
        blob = json.dumps({"o": self.ordering, "k": key, "b": backwards}, separators=(",", ":"))
        token = base64.urlsafe_b64encode(blob.encode()).decode().rstrip("=")
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, token)

    def get_next_link(self):
        if not self.has_next or self.last_key is None:
            return None
        return self._link(self.last_key, backwards=False)

    def get_previous_link(self):
        if not self.has_previous:
            return None
        if self.first_key is None:
            return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        return self._link(self.first_key, backwards=True)

    def get_paginated_response(self, data):
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "An opaque position from a next or previous link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [OrganizationRolePermission]
    filterset_class = FindingFilter
    pagination_class = FindingCursorPagination
    lookup_value_regex = r"\d+"
    queryset = Finding.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        user = self.request.user
        if self.action == "list":
            return selectors.findings_list(user)
        if self.action == "partial_update":
            return selectors.findings_for(user).select_related("project")
        return selectors.findings_detail(user)

    def get_serializer_class(self):
        return FindingListSerializer if self.action == "list" else FindingDetailSerializer

    def get_permission_organization_id(self, obj):
        return obj.project.organization_id

    @extend_schema(request=FindingTriageSerializer, responses={200: FindingDetailSerializer})
    def partial_update(self, request, *args, **kwargs):
        finding = self.get_object()
        data = FindingTriageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        note = changes.pop("note", "")
        try:
            triage.finding_triage(finding=finding, user=request.user, changes=changes, note=note)
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        updated = selectors.finding_detail_for(request.user, finding.pk)
        return Response(FindingDetailSerializer(updated).data)


class FindingBulkUpdateApi(APIView):
    """Change many findings at once, by ids or by the list's filters (findings of the
    organizations where the caller may triage). Ids not found, findings the caller may only
    read and refused transitions are listed in `failed`; the others are changed."""

    @extend_schema(
        request=FindingBulkUpdateSerializer,
        responses={
            200: FindingBulkResultSerializer,
            403: OpenApiResponse(description="The caller may only read these findings."),
            404: OpenApiResponse(description="None of the ids is a finding of the caller."),
        },
    )
    def post(self, request):
        body = FindingBulkUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        changes = dict(data["changes"])
        note = changes.pop("note", "")
        user = request.user
        ids = data.get("ids")
        if ids is None:
            writable = selectors.writable_organization_ids(user)
            if not writable:
                raise PermissionDenied(ROLE_DENIED)
            chosen = FindingFilter(
                data=data["filter"],
                queryset=selectors.findings_for(user).filter(project__organization_id__in=writable),
            )
            if not chosen.is_valid():
                raise ValidationError({"filter": chosen.errors})
            queryset = chosen.qs
        else:
            queryset = selectors.findings_for(user)
        try:
            result = triage.findings_bulk_triage(
                user=user, queryset=queryset, ids=ids, changes=changes, note=note
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        if ids is not None and not result.found:
            raise NotFound()
        if ids is not None and not result.writable:
            raise PermissionDenied(ROLE_DENIED)
        failed = [{"id": pk, "errors": errors} for pk, errors in sorted(result.failed.items())]
        return Response({"updated": result.updated, "failed": failed})


class FindingCommentListApi(generics.ListCreateAPIView):
    """A finding's comments, oldest first; members and above write them."""

    serializer_class = FindingCommentSerializer
    queryset = FindingComment.objects.none()  # for the schema

    @cached_property
    def finding(self) -> Finding:
        finding = (
            selectors.findings_for(self.request.user)
            .select_related("project")
            .filter(pk=self.kwargs["finding_pk"])
            .first()
        )
        if finding is None:
            raise NotFound()
        return finding

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        needed = READ if request.method in ("GET", "HEAD", "OPTIONS") else WRITE
        if not has_role(role_in(request.user, self.finding.project.organization_id), needed):
            raise PermissionDenied(ROLE_DENIED)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.finding_comments(self.finding).order_by("created_at", "id")

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            comment = triage.finding_comment_create(
                finding=self.finding, author=request.user, body=data.validated_data["body"]
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(self.get_serializer(comment).data, status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("findings", FindingViewSet, basename="finding")

urlpatterns = [
    path("findings/bulk_update/", FindingBulkUpdateApi.as_view(), name="finding-bulk-update"),
    path(
        "findings/<int:finding_pk>/comments/",
        FindingCommentListApi.as_view(),
        name="finding-comments",
    ),
    *router.urls,
]
