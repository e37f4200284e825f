from django.contrib import admin

from .models import SystemSettings


@admin.register(SystemSettings)
class SystemSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "smtp_host", "smtp_port", "default_from_email", "updated_at"]
    fieldsets = [
        (
            "SMTP",
            {
                "fields": [
                    "smtp_host",
                    "smtp_port",
                    "smtp_user",
                    "smtp_password",
                    "smtp_use_tls",
                    "default_from_email",
                ]
            },
        ),
    ]

    def has_add_permission(self, request):
        return not SystemSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        from django import forms

        form = super().get_form(request, obj, **kwargs)
        form.base_fields["smtp_password"].widget = forms.PasswordInput(render_value=True)
        return form
