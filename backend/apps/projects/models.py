"""Projects belong to one organization; target assets are what gets scanned."""

from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel


class Project(TimeStampedModel):
    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=Q(is_active=True),
                name="unique_active_project_name",
            ),
        ]
        indexes = [models.Index(fields=["organization", "is_active", "name"])]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class AssetType(models.TextChoices):
    GIT_REPOSITORY = "git_repository", "Git repository or local path"
    URL = "url", "Web application URL"
    DOCKER_IMAGE = "docker_image", "Container image"
    IP_ADDRESS = "ip_address", "IP address"
    DOMAIN_NAME = "domain_name", "Domain name"
    FILE_UPLOAD = "file_upload", "Uploaded file"


class TargetAsset(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="targets")
    name = models.CharField(max_length=150)
    asset_type = models.CharField(max_length=32, choices=AssetType.choices)
    identifier = models.CharField(max_length=2048)
    metadata = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_target_name"),
        ]
        indexes = [models.Index(fields=["project", "asset_type"])]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.asset_type})"


class TargetGroup(TimeStampedModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="target_groups")
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    targets = models.ManyToManyField(TargetAsset, related_name="groups", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="unique_target_group_name"),
        ]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
