"""Accounts API under /api/v1/auth/, organizations and members, and the audit log."""

from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.generics import RetrieveUpdateAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.core.filters import UtcIsoDateTimeFilter
from apps.core.permissions import (
    MANAGE,
    READ,
    IsStaff,
    OrganizationRolePermission,
    has_role,
    role_in,
    scope_to_user,
)

from . import serializers as s
from . import services
from .authentication import SameSiteOnly
from .models import AuditEvent, Invitation, Organization, OrganizationMembership, Role


def as_api_error(exc: DjangoValidationError) -> ApiValidationError:
    """A service's Django ValidationError as DRF's, keeping the per-field messages."""
    if hasattr(exc, "message_dict"):
        return ApiValidationError(exc.message_dict)
    return ApiValidationError(exc.messages)


class PublicApi(APIView):
    """No authentication (so no CSRF): the caller has no session or token yet. A browser's
    cross-site request is refused all the same (login CSRF)."""

    # deliberate: registration, login and reset are public, from this site or an API client
    permission_classes = [AllowAny, SameSiteOnly]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]


@method_decorator(ensure_csrf_cookie, name="get")
class CsrfApi(APIView):
    """Sets the `csrftoken` cookie that the SPA sends back as X-CSRFToken on writes."""

    permission_classes = [AllowAny]  # deliberate: it only hands out a CSRF cookie
    authentication_classes: list = []

    @extend_schema(responses={204: None})
    def get(self, request):
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegistrationApi(PublicApi):
    throttle_scope = "registration"

    @extend_schema(request=s.RegistrationSerializer, responses={201: s.UserSerializer})
    def post(self, request):
        data = s.RegistrationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.user_register(
                username=data.validated_data["username"],
                email=data.validated_data["email"],
                password=data.validated_data["password"],
                request=request,
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginApi(PublicApi):
    throttle_scope = "login"

    @extend_schema(request=s.LoginSerializer, responses={200: s.TokenSerializer})
    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        django_request = request._request
        user = authenticate(
            django_request, username=username, password=data.validated_data["password"]
        )
        if user is None:
            locked = getattr(django_request, "axes_locked_out", False)
            services.audit_record(
                event_type=AuditEvent.Type.LOGIN_LOCKED_OUT
                if locked
                else AuditEvent.Type.LOGIN_FAILED,
                request=request,
                username=username,
            )
            # When locked out, django-axes' middleware replaces this answer with a 429.
            raise ApiValidationError(
                {"non_field_errors": ["Invalid username or password."]}, code="invalid_credentials"
            )
        login(django_request, user)
        token = services.login_token_issue(user=user)
        services.audit_record(
            event_type=AuditEvent.Type.LOGIN_SUCCEEDED,
            request=request,
            actor=user,
            target_user=user,
        )
        return Response(s.TokenSerializer({"token": token, "user": user}).data)


class LogoutApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        from .models import LoginToken

        if isinstance(request.auth, LoginToken):
            request.auth.delete()
        services.audit_record(
            event_type=AuditEvent.Type.LOGOUT,
            request=request,
            actor=request.user,
            target_user=request.user,
        )
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


RESET_ANSWER = "If an account with this address exists, we sent it a link to reset the password."


class PasswordResetApi(PublicApi):
    throttle_scope = "password_reset"

    @extend_schema(
        request=s.PasswordResetSerializer,
        responses={200: inline_serializer("Detail", {"detail": serializers.CharField()})},
    )
    def post(self, request):
        data = s.PasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            services.password_reset_request(email=data.validated_data["email"], request=request)
        return Response({"detail": RESET_ANSWER})


class PasswordResetConfirmApi(PublicApi):
    throttle_scope = "password_reset"

    @extend_schema(request=s.PasswordResetConfirmSerializer, responses={204: None})
    def post(self, request):
        data = s.PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.password_reset_confirm(
                uid=data.validated_data["uid"],
                token=data.validated_data["token"],
                new_password=data.validated_data["new_password"],
                request=request,
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    @extend_schema(request=s.PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.password_change(
                user=request.user,
                old_password=data.validated_data["old_password"],
                new_password=data.validated_data["new_password"],
                request=request,
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        update_session_auth_hash(request._request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserApi(RetrieveUpdateAPIView):
    serializer_class = s.UserSerializer

    def get_object(self):
        return self.request.user


class UserProfileApi(RetrieveUpdateAPIView):
    serializer_class = s.UserProfileSerializer

    def get_object(self):
        return services.profile_for(self.request.user)


class ApiKeyApi(APIView):
    """GET shows only the prefix; POST creates or rotates and shows the key once; DELETE revokes."""

    @extend_schema(responses={200: s.ApiKeyInfoSerializer})
    def get(self, request):
        profile = services.profile_for(request.user)
        has_key = bool(profile.api_key_hash)
        return Response(
            s.ApiKeyInfoSerializer(
                {
                    "prefix": profile.api_key_prefix if has_key else None,
                    "created_at": profile.api_key_created_at if has_key else None,
                    "last_used_at": profile.api_key_last_used_at if has_key else None,
                }
            ).data
        )

    @extend_schema(request=None, responses={201: s.ApiKeyCreatedSerializer})
    def post(self, request):
        key = services.api_key_rotate(user=request.user, request=request)
        return Response(
            {"key": key, "prefix": key[:12], "detail": "Copy this key now: it is shown only once."},
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )

    @extend_schema(responses={204: None})
    def delete(self, request):
        if not services.api_key_revoke(user=request.user, request=request):
            raise NotFound("You have no API key.")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Organizations ----------------------------------------------------------------------------
class OrganizationViewSet(viewsets.ModelViewSet):
    serializer_class = s.OrganizationSerializer
    permission_classes = [OrganizationRolePermission]
    required_roles = {"update": MANAGE, "partial_update": MANAGE, "destroy": Role.OWNER}

    def get_queryset(self):
        return scope_to_user(Organization.objects.filter(is_active=True), self.request.user, "id")

    def get_permission_organization_id(self, obj):
        return obj.pk

    def perform_create(self, serializer):
        try:
            serializer.instance = services.organization_create(
                user=self.request.user, name=serializer.validated_data["name"]
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    def perform_update(self, serializer):
        try:
            services.organization_update(
                organization=serializer.instance, name=serializer.validated_data.get("name")
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    def perform_destroy(self, instance):
        if instance.is_personal:
            raise ApiValidationError({"detail": ["A personal organization cannot be deleted."]})
        instance.is_active = False
        instance.save(update_fields=["is_active", "updated_at"])


class OrganizationScopedMixin:
    """Nested under organizations/{organization_pk}/: the organization must be the caller's
    (else 404), and the caller's role there decides what is allowed."""

    permission_classes = [IsAuthenticated]
    required_roles: dict = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        org_id = int(self.kwargs["organization_pk"])
        self.organization = get_object_or_404(Organization, pk=org_id, is_active=True)
        self.caller_role = role_in(request.user, org_id)
        if self.caller_role is None:
            raise NotFound()
        needed = self.required_roles.get(self.action, READ)
        if not has_role(self.caller_role, needed):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied("Your role in this organization does not allow this.")


class MemberViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Members: list (everyone), invite by e-mail, change role and remove (owners and admins),
    leave (anyone but the last owner)."""

    serializer_class = s.MembershipSerializer
    required_roles = {"create": MANAGE, "partial_update": MANAGE, "destroy": MANAGE, "leave": READ}

    queryset = OrganizationMembership.objects.none()  # for the schema

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return OrganizationMembership.objects.filter(
            organization_id=self.kwargs["organization_pk"]
        ).select_related("user")

    @extend_schema(request=s.InvitationSerializer, responses={201: s.InvitationSerializer})
    def create(self, request, *args, **kwargs):
        data = s.InvitationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            invitation, _ = services.invitation_create(
                organization=self.organization,
                email=data.validated_data["email"],
                role=data.validated_data.get("role", Role.MEMBER),
                actor=request.user,
                actor_role=self.caller_role,
                request=request,
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(s.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RoleSerializer, responses={200: s.MembershipSerializer})
    def partial_update(self, request, *args, **kwargs):
        data = s.RoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            membership = services.membership_change_role(
                membership=self.get_object(),
                role=data.validated_data["role"],
                actor=request.user,
                actor_role=self.caller_role,
                request=request,
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(s.MembershipSerializer(membership).data)

    def perform_destroy(self, instance):
        try:
            services.membership_remove(
                membership=instance,
                actor=self.request.user,
                actor_role=self.caller_role,
                request=self.request,
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None

    @extend_schema(request=None, responses={204: None})
    @action(detail=False, methods=["post"])
    def leave(self, request, *args, **kwargs):
        membership = get_object_or_404(self.get_queryset(), user=request.user)
        self.perform_destroy(membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Pending invitations of an organization (owners and admins), revocable."""

    serializer_class = s.InvitationSerializer
    required_roles = {"list": MANAGE, "destroy": MANAGE}

    queryset = Invitation.objects.none()  # for the schema

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return Invitation.objects.filter(
            organization_id=self.kwargs["organization_pk"], accepted_at__isnull=True
        ).select_related("invited_by")


class InvitationAcceptApi(APIView):
    @extend_schema(request=s.InvitationAcceptSerializer, responses={200: s.MembershipSerializer})
    def post(self, request):
        data = s.InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            membership = services.invitation_accept(
                token=data.validated_data["token"], user=request.user, request=request
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        return Response(s.MembershipSerializer(membership).data)


# --- Audit log (staff) ------------------------------------------------------------------------
class AuditEventFilter(filters.FilterSet):
    event_type = filters.BaseInFilter(field_name="event_type")
    username = filters.CharFilter(field_name="username")
    actor_id = filters.NumberFilter(field_name="actor_id")
    organization_id = filters.NumberFilter(field_name="organization_id")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields: list = []


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.AuditEventSerializer
    permission_classes = [IsStaff]
    filterset_class = AuditEventFilter
    queryset = AuditEvent.objects.select_related("actor", "target_user")
