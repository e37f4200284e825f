"""Who may do what: one place for SecuLite's authorization rules.

Roles rank owner > admin > member > auditor. Auditors read everything in their organizations and
change nothing; members create and change projects, targets, scans and triage; admins and
owners also manage the organization and its members. Objects of other organizations are never
found at all (querysets are scoped by the selectors below), so they answer 404, never 403."""

from django.db.models import QuerySet
from rest_framework import permissions

from apps.users.models import OrganizationMembership, Role

ROLE_RANK = {Role.AUDITOR: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}
READ, WRITE, MANAGE, OWN = Role.AUDITOR, Role.MEMBER, Role.ADMIN, Role.OWNER


def has_role(role: str | None, needed: str) -> bool:
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(needed)]


def role_in(user, organization_id: int) -> str | None:
    """The user's role in the organization, or None when not a member."""
    if not user or not user.is_authenticated:
        return None
    cache = getattr(user, "_seculite_roles", None)
    if cache is None:
        cache = dict(
            OrganizationMembership.objects.filter(
                user=user, organization__is_active=True
            ).values_list("organization_id", "role")
        )
        user._seculite_roles = cache
    return cache.get(organization_id)


def forget_roles(user) -> None:
    """Drop the per-request role cache after a membership change."""
    if hasattr(user, "_seculite_roles"):
        del user._seculite_roles


def organization_ids_for(user, minimum: str = READ) -> list[int]:
    role_in(user, 0)  # fill the cache
    return [
        org_id
        for org_id, role in getattr(user, "_seculite_roles", {}).items()
        if has_role(role, minimum)
    ]


def scope_to_user(queryset: QuerySet, user, org_field: str) -> QuerySet:
    """Restrict `queryset` to rows whose organization (reached by `org_field`) has the user."""
    if not user or not user.is_authenticated:
        return queryset.none()
    return queryset.filter(**{f"{org_field}__in": organization_ids_for(user)})


class OrganizationRolePermission(permissions.BasePermission):
    """Object permission from the caller's role in the object's organization.

    The view names the organization of an object with `get_permission_organization_id(obj)`
    and may set `required_roles = {"action": role}`; by default safe methods need READ and
    everything else WRITE."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        org_id = view.get_permission_organization_id(obj)
        return has_role(role_in(request.user, org_id), required_role(request, view))


def required_role(request, view) -> str:
    roles = getattr(view, "required_roles", {})
    action = getattr(view, "action", None)
    if action in roles:
        return roles[action]
    return READ if request.method in permissions.SAFE_METHODS else WRITE


class IsStaff(permissions.BasePermission):
    """Platform staff only (system settings, the audit log, tool administration)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


def addresses_allowed(meta, networks) -> bool:
    """True when every address the request names is inside one of `networks`: the peer
    (REMOTE_ADDR) and, when present, what a proxy says about the client (X-Real-IP,
    X-Forwarded-For). A forged header can therefore only narrow access, never widen it."""
    import ipaddress

    names = [meta.get("REMOTE_ADDR", "")]
    if meta.get("HTTP_X_REAL_IP"):
        names.append(meta["HTTP_X_REAL_IP"])
    names += [part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    nets = [ipaddress.ip_network(n, strict=False) for n in networks]
    for name in names:
        try:
            address = ipaddress.ip_address(name.strip())
        except ValueError:
            return False
        if not any(address in net for net in nets):
            return False
    return bool(nets)


class MetricsAccess(permissions.BasePermission):
    """The Prometheus endpoint: callers from SECULITE_METRICS_ALLOWED_IPS, or platform staff
    (a staff user's API key or session)."""

    def has_permission(self, request, view):
        from django.conf import settings

        if addresses_allowed(request.META, settings.SECULITE_METRICS_ALLOWED_IPS):
            return True
        return IsStaff().has_permission(request, view)
