from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

auth = [
    path("csrf/", views.CsrfApi.as_view(), name="auth-csrf"),
    path("registration/", views.RegistrationApi.as_view(), name="auth-registration"),
    path("login/", views.LoginApi.as_view(), name="auth-login"),
    path("logout/", views.LogoutApi.as_view(), name="auth-logout"),
    path("password/reset/", views.PasswordResetApi.as_view(), name="auth-password-reset"),
    path(
        "password/reset/confirm/",
        views.PasswordResetConfirmApi.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("password/change/", views.PasswordChangeApi.as_view(), name="auth-password-change"),
    path("user/", views.UserApi.as_view(), name="auth-user"),
    path("userprofile/", views.UserProfileApi.as_view(), name="auth-userprofile"),
    path("userprofile/api-key/", views.ApiKeyApi.as_view(), name="auth-api-key"),
]

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register(
    r"organizations/(?P<organization_pk>\d+)/members",
    views.MemberViewSet,
    basename="organization-member",
)
router.register(
    r"organizations/(?P<organization_pk>\d+)/invitations",
    views.InvitationViewSet,
    basename="organization-invitation",
)
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("auth/", include(auth)),
    path("invitations/accept/", views.InvitationAcceptApi.as_view(), name="invitation-accept"),
    *router.urls,
]
