"""Shared filters: date-times reach the database in UTC.

Found by schemathesis (verify/test_fuzz.py): `?created_after=0522-01-18T06:02:31+19:48` reached
PostgreSQL with its +19:48 offset, beyond the ±15:59 it accepts, and the DataError was answered
503 "database unavailable" on the findings, scans and audit-event lists."""

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from apps.core.filters import UtcIsoDateTimeField

FAR_OFFSET = "0522-01-18T06:02:31+19:48"
NO_UTC_EQUIVALENT = "0001-01-01T00:00:00+05:00"


def test_an_offset_beyond_postgresql_s_range_becomes_utc():
    value = UtcIsoDateTimeField().clean(FAR_OFFSET)
    assert value.utcoffset() == timedelta(0)
    assert value == datetime(522, 1, 18, 6, 2, 31, tzinfo=timezone(timedelta(hours=19, minutes=48)))
    assert value.astimezone(UTC).hour == 10


def test_a_date_without_a_utc_equivalent_is_invalid():
    with pytest.raises(ValidationError):
        UtcIsoDateTimeField().clean(NO_UTC_EQUIVALENT)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/findings/?last_seen_before={}",
        "/api/v1/findings/?first_seen_after={}",
        "/api/v1/scans/?created_after={}",
        "/api/v1/audit-events/?created_before={}",
    ],
)
def test_list_filters_take_any_iso_offset(world, path):
    client = APIClient()
    client.force_authenticate(world.users["staff" if "audit" in path else "owner"])
    far = client.get(path.format(quote(FAR_OFFSET)))
    assert far.status_code == 200, far.json()
    edge = client.get(path.format(quote(NO_UTC_EQUIVALENT)))
    assert edge.status_code == 400, edge.json()
    assert edge.json()["error_code"] == "invalid"


@pytest.mark.django_db
def test_a_forged_findings_cursor_with_a_far_offset_is_no_server_error(world):
    client = APIClient()
    client.force_authenticate(world.users["owner"])
    for stamp in (FAR_OFFSET, NO_UTC_EQUIVALENT):
        blob = json.dumps({"o": "first_seen_at", "k": [stamp, 1], "b": False})
        cursor = base64.urlsafe_b64encode(blob.encode()).decode().rstrip("=")
        answer = client.get(f"/api/v1/findings/?ordering=first_seen_at&cursor={cursor}")
        assert answer.status_code in (200, 404), (stamp, answer.json())
