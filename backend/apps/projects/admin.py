from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from .models import Project, TargetAsset, TargetGroup
from .validators import validate_target


class TargetAssetForm(forms.ModelForm):
    """The admin validates targets with the same rules as the API."""

    class Meta:
        model = TargetAsset
        fields = [
            "project",
            "name",
            "asset_type",
            "identifier",
            "metadata",
            "description",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        if data.get("asset_type") and data.get("identifier"):
            try:
                data["identifier"], data["metadata"] = validate_target(
                    asset_type=data["asset_type"],
                    identifier=data["identifier"],
                    metadata=data.get("metadata") or {},
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "organization__name"]


@admin.register(TargetAsset)
class TargetAssetAdmin(admin.ModelAdmin):
    form = TargetAssetForm
    list_display = ["name", "project", "asset_type", "identifier", "is_active"]
    list_filter = ["asset_type", "is_active"]
    search_fields = ["name", "identifier"]


@admin.register(TargetGroup)
class TargetGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "project"]
    filter_horizontal = ["targets"]
