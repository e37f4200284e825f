from django.apps import AppConfig


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.users"
    label = "users"
    verbose_name = "Users and organizations"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI authentication extensions
