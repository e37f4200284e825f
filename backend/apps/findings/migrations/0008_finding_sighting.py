"""A finding's last sighting (scan, time, tool result) moves to its own narrow table: every
import rewrote each finding it saw only to refresh these three columns, and with two of them
indexed PostgreSQL wrote a new entry into every index of the findings for every row."""

import django.db.models.deletion
from django.db import migrations, models

_FK = {
    "blank": True,
    "db_constraint": False,
    "db_index": False,
    "null": True,
    "on_delete": django.db.models.deletion.SET_NULL,
    "related_name": "+",
}


def copy_sightings(apps, schema_editor):
    Finding = apps.get_model("findings", "Finding")
    FindingSighting = apps.get_model("findings", "FindingSighting")
    quote = schema_editor.quote_name
    # One statement whatever the number of findings; the names come from the models.
    schema_editor.execute(
        f"INSERT INTO {quote(FindingSighting._meta.db_table)} "  # noqa: S608
        "(finding_id, scan_id, seen_at, tool_result_id) "
        "SELECT id, last_seen_scan_id, last_seen_at, tool_result_id "
        f"FROM {quote(Finding._meta.db_table)}"
    )


def copy_back(apps, schema_editor):
    Finding = apps.get_model("findings", "Finding")
    FindingSighting = apps.get_model("findings", "FindingSighting")
    quote = schema_editor.quote_name
    findings, sightings = quote(Finding._meta.db_table), quote(FindingSighting._meta.db_table)
    schema_editor.execute(
        f"UPDATE {findings} SET last_seen_scan_id = s.scan_id, "  # noqa: S608
        "last_seen_at = s.seen_at, tool_result_id = s.tool_result_id "
        f"FROM {sightings} AS s WHERE s.finding_id = {findings}.id"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0007_lean_finding_indexes"),
        ("scans", "0003_scan_notified_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="FindingSighting",
            fields=[
                (
                    "finding",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="sighting",
                        serialize=False,
                        to="findings.finding",
                    ),
                ),
                ("seen_at", models.DateTimeField()),
                ("scan", models.ForeignKey(to="scans.scan", **_FK)),
                ("tool_result", models.ForeignKey(to="scans.scantoolresult", **_FK)),
            ],
        ),
        # Nullable first, so that going back re-adds the column empty, and copy_back fills it
        # before NOT NULL returns.
        migrations.AlterField(
            model_name="finding", name="last_seen_at", field=models.DateTimeField(null=True)
        ),
        migrations.RunPython(copy_sightings, copy_back, elidable=False),
        migrations.AddIndex(
            model_name="findingsighting",
            index=models.Index(fields=["scan"], name="findings_fi_scan_id_ad5738_idx"),
        ),
        migrations.AddIndex(
            model_name="findingsighting",
            index=models.Index(
                fields=["seen_at", "finding"], name="findings_fi_seen_at_b1fb96_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="finding", name="findings_fi_last_se_b357e3_idx"),
        migrations.RemoveIndex(model_name="finding", name="findings_fi_last_se_a20686_idx"),
        migrations.RemoveField(model_name="finding", name="last_seen_at"),
        migrations.RemoveField(model_name="finding", name="last_seen_scan"),
        migrations.RemoveField(model_name="finding", name="tool_result"),
    ]
