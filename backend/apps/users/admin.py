from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin

from . import services
from .models import AuditEvent, Invitation, Organization, OrganizationMembership, User, UserProfile


class ProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    fields = [
        "timezone",
        "avatar_url",
        "notification_preferences",
        "api_key_prefix",
        "api_key_created_at",
        "api_key_last_used_at",
    ]
    readonly_fields = ["api_key_prefix", "api_key_created_at", "api_key_last_used_at"]


@admin.register(User)
class SecuLiteUserAdmin(UserAdmin):
    inlines = [ProfileInline]
    actions = ["activate_users", "deactivate_users", "send_password_reset"]
    list_display = ["username", "email", "is_active", "is_staff", "last_login", "date_joined"]

    @admin.action(description="Activate the selected users")
    def activate_users(self, request, queryset):
        for user in queryset:
            services.user_set_active(user=user, active=True, actor=request.user, request=request)
        self.message_user(request, f"Activated {queryset.count()} users.", messages.SUCCESS)

    @admin.action(description="Deactivate the selected users")
    def deactivate_users(self, request, queryset):
        for user in queryset.exclude(pk=request.user.pk):
            services.user_set_active(user=user, active=False, actor=request.user, request=request)
        self.message_user(
            request, "Deactivated the selected users (never yourself).", messages.SUCCESS
        )

    @admin.action(description="Send a password reset e-mail")
    def send_password_reset(self, request, queryset):
        emails = {u.email for u in queryset if u.email}
        for email in emails:
            services.password_reset_request(email=email, request=request)
        self.message_user(
            request, f"Sent reset links to {len(emails)} addresses.", messages.SUCCESS
        )


class MembershipInline(admin.TabularInline):
    model = OrganizationMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "is_personal", "is_active", "created_at"]
    list_filter = ["is_active", "is_personal"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(OrganizationMembership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["organization", "user", "role", "joined_at"]
    list_filter = ["role"]
    search_fields = ["organization__name", "user__username"]
    autocomplete_fields = ["organization", "user"]


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "timezone", "api_key_prefix"]
    readonly_fields = [
        "api_key_prefix",
        "api_key_hash",
        "api_key_created_at",
        "api_key_last_used_at",
    ]
    search_fields = ["user__username"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "expires_at", "accepted_at"]
    readonly_fields = ["token_hash"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_type", "username", "actor", "ip_address"]
    list_filter = ["event_type"]
    search_fields = ["username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
