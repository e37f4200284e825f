"""Filter building blocks shared by list endpoints: several values comma-separated, and
date-times turned into UTC before they reach the database."""

from datetime import UTC

from django.core.exceptions import ValidationError
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    """`?status=new,confirmed`"""


#: The range of the database's integer columns (bigint).
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def in_int64(values) -> list:
    """The values an integer column can hold. A larger one matches no row; PostgreSQL says so,
    but SQLite refuses to bind it (OverflowError, a 500)."""
    return [v for v in values if _INT64_MIN <= v <= _INT64_MAX]


class NumberInFilter(filters.BaseInFilter, filters.NumberFilter):
    """`?project_id=1,2,3`; an id no integer column holds matches nothing."""

    def filter(self, qs, value):
        if value:
            value = in_int64(value)
            if not value:
                return qs.none()
        return super().filter(qs, value)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time in UTC. Python reads UTC offsets up to ±23:59, PostgreSQL only up to
    ±15:59 (a larger one was a DataError, answered 503); a date at the edge of the calendar may
    have no UTC equivalent at all (refused as invalid, 400)."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    """`?created_after=2026-01-31T12:00:00+01:00`, compared in UTC."""

    field_class = UtcIsoDateTimeField
