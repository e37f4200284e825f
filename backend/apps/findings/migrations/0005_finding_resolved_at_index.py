from django.db import migrations, models


class Migration(migrations.Migration):
    """Mean time to remediate reads the findings resolved within a window of dates."""

    dependencies = [
        ("findings", "0004_finding_effective_severity"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                condition=models.Q(("resolved_at__isnull", False)),
                fields=["resolved_at"],
                name="finding_resolved_at_idx",
            ),
        ),
    ]
