"""Writes for projects, targets and target groups. Target values are validated here, so the
API, the admin and the CLI share one set of rules."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import Project, TargetAsset, TargetGroup
from .validators import Resolver, validate_target


def project_create(*, organization, name: str, description: str = "") -> Project:
    if Project.objects.filter(organization=organization, name=name, is_active=True).exists():
        raise ValidationError({"name": ["A project with this name exists in the organization."]})
    try:
        with transaction.atomic():
            return Project.objects.create(
                organization=organization, name=name, description=description
            )
    except IntegrityError:
        raise ValidationError(
            {"name": ["A project with this name exists in the organization."]}
        ) from None


def project_update(*, project: Project, **fields) -> Project:
    name = fields.get("name")
    if (
        name
        and name != project.name
        and Project.objects.filter(
            organization=project.organization, name=name, is_active=True
        ).exists()
    ):
        raise ValidationError({"name": ["A project with this name exists in the organization."]})
    for key in ("name", "description"):
        if key in fields:
            setattr(project, key, fields[key])
    project.save()
    return project


def project_delete(*, project: Project) -> None:
    """Soft delete: the project and its history stay in the database, hidden everywhere."""
    project.is_active = False
    project.save(update_fields=["is_active", "updated_at"])


def target_clean(
    *, asset_type: str, identifier: str, metadata: dict | None, resolver: Resolver | None = None
) -> tuple[str, dict]:
    return validate_target(
        asset_type=asset_type, identifier=identifier, metadata=metadata, resolver=resolver
    )


def _unique_target_name(project: Project, name: str, exclude_pk: int | None = None) -> None:
    qs = TargetAsset.objects.filter(project=project, name=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"name": ["A target with this name exists in the project."]})


@transaction.atomic
def target_create(
    *,
    project: Project,
    name: str,
    asset_type: str,
    identifier: str,
    metadata: dict | None = None,
    description: str = "",
    is_active: bool = True,
    resolver: Resolver | None = None,
) -> TargetAsset:
    identifier, metadata = target_clean(
        asset_type=asset_type, identifier=identifier, metadata=metadata, resolver=resolver
    )
    _unique_target_name(project, name)
    return TargetAsset.objects.create(
        project=project,
        name=name,
        asset_type=asset_type,
        identifier=identifier,
        metadata=metadata,
        description=description,
        is_active=is_active,
    )


@transaction.atomic
def target_update(
    *, target: TargetAsset, resolver: Resolver | None = None, **fields
) -> TargetAsset:
    asset_type = fields.get("asset_type", target.asset_type)
    identifier = fields.get("identifier", target.identifier)
    metadata = fields.get("metadata", target.metadata)
    identifier, metadata = target_clean(
        asset_type=asset_type, identifier=identifier, metadata=metadata, resolver=resolver
    )
    if "name" in fields:
        _unique_target_name(target.project, fields["name"], exclude_pk=target.pk)
        target.name = fields["name"]
    for key in ("description", "is_active"):
        if key in fields:
            setattr(target, key, fields[key])
    target.asset_type, target.identifier, target.metadata = asset_type, identifier, metadata
    target.save()
    return target


def _group_targets(project: Project, target_ids) -> list[TargetAsset]:
    ids = list(dict.fromkeys(target_ids or []))
    targets = list(TargetAsset.objects.filter(project=project, pk__in=ids))
    if len(targets) != len(ids):
        missing = sorted(set(ids) - {t.pk for t in targets})
        raise ValidationError({"targets": [f"Not targets of this project: {missing}."]})
    return targets


@transaction.atomic
def target_group_create(
    *, project: Project, name: str, description: str = "", target_ids=()
) -> TargetGroup:
    if TargetGroup.objects.filter(project=project, name=name).exists():
        raise ValidationError({"name": ["A target group with this name exists in the project."]})
    targets = _group_targets(project, target_ids)
    group = TargetGroup.objects.create(project=project, name=name, description=description)
    group.targets.set(targets)
    return group


@transaction.atomic
def target_group_update(*, group: TargetGroup, **fields) -> TargetGroup:
    if (
        "name" in fields
        and TargetGroup.objects.filter(project=group.project, name=fields["name"])
        .exclude(pk=group.pk)
        .exists()
    ):
        raise ValidationError({"name": ["A target group with this name exists in the project."]})
    for key in ("name", "description"):
        if key in fields:
            setattr(group, key, fields[key])
    group.save()
    if "target_ids" in fields:
        group.targets.set(_group_targets(group.project, fields["target_ids"]))
    return group
