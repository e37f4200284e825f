"""factory_boy factories for accounts, organizations and projects (shared by every app's tests)."""

import factory
from django.contrib.auth import get_user_model

from apps.projects.models import AssetType, Project, TargetAsset, TargetGroup
from apps.users.models import Organization, OrganizationMembership, Role, UserProfile

PASSWORD = "Unguessable-Passw0rd!"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if create:
            self.save()
            UserProfile.objects.get_or_create(user=self)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationMembership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Project {n}")


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetAsset

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"target-{n}")
    asset_type = AssetType.DOCKER_IMAGE
    identifier = "python:3.11-slim"


class TargetGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetGroup

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"group-{n}")
