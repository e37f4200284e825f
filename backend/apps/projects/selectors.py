"""Reads of projects and targets, always scoped to the caller's organizations."""

from django.db.models import QuerySet

from apps.core.permissions import scope_to_user

from .models import Project, TargetAsset, TargetGroup


def projects_for(user) -> QuerySet[Project]:
    return scope_to_user(
        Project.objects.filter(is_active=True, organization__is_active=True),
        user,
        "organization_id",
    )


def project_for(user, project_id) -> Project | None:
    return projects_for(user).select_related("organization").filter(pk=project_id).first()


def targets_of(project: Project) -> QuerySet[TargetAsset]:
    return TargetAsset.objects.filter(project=project)


def target_groups_of(project: Project) -> QuerySet[TargetGroup]:
    return TargetGroup.objects.filter(project=project).prefetch_related("targets")
