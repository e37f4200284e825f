"""List pagination: {"next", "previous", "results"}, page_size up to 500, and no COUNT(*) query
(counting a million findings costs more than the page itself)."""

from collections import OrderedDict

from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE_SIZE = 500
#: No table holds rows past this offset, and the databases' OFFSET is a 64-bit integer (a larger
#: one is a DataError on PostgreSQL, an OverflowError on SQLite): such a page is simply empty.
MAX_OFFSET = 2**62


class StandardPagination(BasePagination):
    """Page-number pagination that fetches one extra row to know whether a next page exists."""

    page_query_param = "page"
    page_size_query_param = "page_size"
    default_page_size = 50
    max_page_size = MAX_PAGE_SIZE

    def _positive_int(self, raw, name: str, default: int, cap: int | None = None) -> int:
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise NotFound(f"Invalid {name}: {raw!r} is not a positive integer.") from None
        if value < 1:
            raise NotFound(f"Invalid {name}: {raw!r} is not a positive integer.")
        return min(value, cap) if cap else value

    def paginate_queryset(self, queryset, request, view=None):
        from django.conf import settings

        default = settings.REST_FRAMEWORK.get("PAGE_SIZE") or self.default_page_size
        self.page_size = self._positive_int(
            request.query_params.get(self.page_size_query_param),
            "page_size",
            default,
            self.max_page_size,
        )
        self.page = self._positive_int(request.query_params.get(self.page_query_param), "page", 1)
        offset = (self.page - 1) * self.page_size
        try:
            rows = (
                list(queryset[offset : offset + self.page_size + 1]) if offset <= MAX_OFFSET else []
            )
        except InvalidPage as exc:  # pragma: no cover - slicing does not raise it
            raise NotFound(str(exc)) from exc
        self.has_next = len(rows) > self.page_size
        self.request = request
        return rows[: self.page_size]

    def get_next_link(self):
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.page + 1)

    def get_previous_link(self):
        if self.page <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.page == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.page - 1)

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
