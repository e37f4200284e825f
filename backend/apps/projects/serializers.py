from rest_framework import serializers

from apps.users.models import Organization

from .models import AssetType, Project, TargetAsset, TargetGroup


class ProjectSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.filter(is_active=True),
        required=False,
        help_text="Defaults to your personal organization.",
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "organization",
            "name",
            "description",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_active", "created_at", "updated_at"]
        validators: list = []  # uniqueness is checked by the service, per organization


class ProjectUpdateSerializer(ProjectSerializer):
    class Meta(ProjectSerializer.Meta):
        read_only_fields = [*ProjectSerializer.Meta.read_only_fields, "organization"]


class TargetAssetSerializer(serializers.ModelSerializer):
    asset_type = serializers.ChoiceField(choices=AssetType.choices)
    metadata = serializers.JSONField(required=False)

    class Meta:
        model = TargetAsset
        fields = [
            "id",
            "project",
            "name",
            "asset_type",
            "identifier",
            "metadata",
            "description",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "project", "created_at", "updated_at"]
        validators: list = []  # uniqueness is checked by the service, per project

    def validate_metadata(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Expected an object.")
        return value


class TargetGroupSerializer(serializers.ModelSerializer):
    """`targets` is a list of target ids of the same project, on input and on output."""

    targets = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)

    class Meta:
        model = TargetGroup
        fields = ["id", "project", "name", "description", "targets", "created_at", "updated_at"]
        read_only_fields = ["id", "project", "created_at", "updated_at"]
        validators: list = []  # uniqueness is checked by the service, per project

    def to_representation(self, instance):
        stamp = serializers.DateTimeField()
        return {
            "id": instance.pk,
            "project": instance.project_id,
            "name": instance.name,
            "description": instance.description,
            "targets": sorted(t.pk for t in instance.targets.all()),
            "created_at": stamp.to_representation(instance.created_at),
            "updated_at": stamp.to_representation(instance.updated_at),
        }
