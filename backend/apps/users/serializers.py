"""Input and output shapes of the accounts and organizations API."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from .models import AuditEvent, Invitation, Organization, OrganizationMembership, Role, UserProfile

User = get_user_model()


class RegistrationSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    password_confirm = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)

    def validate(self, attrs):
        if attrs["password"] != attrs["password_confirm"]:
            raise serializers.ValidationError({"password_confirm": ["The passwords differ."]})
        return attrs


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = serializers.SerializerMethodField()

    def get_user(self, obj) -> dict:
        return UserSerializer(obj["user"]).data


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False, max_length=128)
    new_password = serializers.CharField(trim_whitespace=False, max_length=128)
    new_password_confirm = serializers.CharField(trim_whitespace=False, max_length=128)

    def validate(self, attrs):
        if attrs["new_password"] != attrs["new_password_confirm"]:
            raise serializers.ValidationError({"new_password_confirm": ["The passwords differ."]})
        return attrs


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField()


class PasswordResetConfirmSerializer(PasswordChangeSerializer):
    old_password = None
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "is_staff", "date_joined"]
        read_only_fields = ["id", "username", "email", "is_staff", "date_joined"]


class UserProfileSerializer(serializers.ModelSerializer):
    has_api_key = serializers.SerializerMethodField()

    class Meta:
        model = UserProfile
        fields = ["timezone", "avatar_url", "notification_preferences", "has_api_key", "updated_at"]
        read_only_fields = ["has_api_key", "updated_at"]

    def get_has_api_key(self, obj) -> bool:
        return bool(obj.api_key_hash)

    def validate_notification_preferences(self, value):
        from .models import default_notification_preferences

        defaults = default_notification_preferences()
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected an object.")
        unknown = set(value) - set(defaults)
        if unknown:
            raise serializers.ValidationError(f"Unknown preferences: {', '.join(sorted(unknown))}.")
        for key, item in value.items():
            if key == "email_new_findings_min_severity":
                if item not in ("critical", "high", "medium", "low", "info"):
                    raise serializers.ValidationError(f"{key}: not a severity.")
            elif not isinstance(item, bool):
                raise serializers.ValidationError(f"{key}: expected true or false.")
        merged = {**defaults, **(self.instance.notification_preferences if self.instance else {})}
        merged.update(value)
        return merged


class ApiKeyInfoSerializer(serializers.Serializer):
    prefix = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


class ApiKeyCreatedSerializer(serializers.Serializer):
    key = serializers.CharField()
    prefix = serializers.CharField()
    detail = serializers.CharField()


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["id", "name", "is_personal", "role", "created_at", "updated_at"]
        read_only_fields = ["id", "is_personal", "role", "created_at", "updated_at"]

    def get_role(self, obj) -> str | None:
        from apps.core.permissions import role_in

        return role_in(self.context["request"].user, obj.pk)


class MembershipSerializer(serializers.ModelSerializer):
    user = UserSerializer(read_only=True)

    class Meta:
        model = OrganizationMembership
        fields = ["id", "user", "role", "joined_at"]
        read_only_fields = ["id", "user", "joined_at"]


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "expires_at", "accepted_at", "created_at"]
        read_only_fields = ["id", "invited_by", "expires_at", "accepted_at", "created_at"]


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=128)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)
    target_user = serializers.CharField(
        source="target_user.username", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "event_type",
            "actor",
            "target_user",
            "organization",
            "username",
            "ip_address",
            "user_agent",
            "details",
        ]
        read_only_fields = fields
