from django.db import migrations, models
from django.db.models import Case, F, Value, When

RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def backfill(apps, schema_editor):
    """Existing findings: effective severity = override or scanner's, rank follows it."""
    Finding = apps.get_model("findings", "Finding")
    effective = Case(
        When(severity_override="", then=F("severity")),
        default=F("severity_override"),
    )
    Finding.objects.update(effective_severity=effective)
    Finding.objects.update(
        severity_rank=Case(
            *[When(effective_severity=name, then=Value(rank)) for name, rank in RANK.items()],
            default=Value(0),
        )
    )


class Migration(migrations.Migration):

    dependencies = [
        ("findings", "0003_lifecycle_triage_imports"),
    ]

    operations = [
        migrations.AddField(
            model_name="finding",
            name="effective_severity",
            field=models.CharField(
                blank=True,
                choices=[
                    ("critical", "Critical"),
                    ("high", "High"),
                    ("medium", "Medium"),
                    ("low", "Low"),
                    ("info", "Info"),
                ],
                max_length=10,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        # The list's keyset orderings need (column, id): ingestion stamps a whole batch with
        # one time, so a single-column index leaves large ties to sort.
        migrations.RemoveIndex(model_name="finding", name="findings_fi_due_dat_5d5851_idx"),
        migrations.RemoveIndex(model_name="finding", name="findings_fi_first_s_65a9df_idx"),
        migrations.RemoveIndex(model_name="finding", name="findings_fi_last_se_0e7413_idx"),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(fields=["due_date", "id"], name="findings_fi_due_dat_85691f_idx"),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                fields=["first_seen_at", "id"], name="findings_fi_first_s_386cdc_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                fields=["last_seen_at", "id"], name="findings_fi_last_se_a20686_idx"
            ),
        ),
    ]
