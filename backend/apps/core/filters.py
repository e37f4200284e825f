"""Filter building blocks shared by list endpoints: several values comma-separated."""

from django_filters import rest_framework as filters


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    """`?status=new,confirmed`"""


class NumberInFilter(filters.BaseInFilter, filters.NumberFilter):
    """`?project_id=1,2,3`"""
