"""Reads of findings, always scoped to the caller's organizations, and the keyset ("cursor")
pages of the findings list."""

from datetime import UTC, date, datetime
from typing import Any

from django.db.models import BooleanField, Expression, F, Prefetch, QuerySet, Value
from django.utils.dateparse import parse_date, parse_datetime

from apps.core.permissions import WRITE, organization_ids_for
from apps.projects.models import Project

from .filters import DEFAULT_ORDERING, ORDERINGS
from .models import Finding, FindingComment, FindingHistory

#: How many history rows and comments the detail carries (newest first); comments/ pages on.
DETAIL_HISTORY_LIMIT = 100
DETAIL_COMMENTS_LIMIT = 100


def visible_projects(user) -> QuerySet[Project]:
    return Project.objects.filter(
        organization_id__in=organization_ids_for(user), is_active=True
    ).values("pk")


def findings_for(user) -> QuerySet[Finding]:
    """Findings of the active projects of the caller's organizations."""
    if not user or not user.is_authenticated:
        return Finding.objects.none()
    return Finding.objects.filter(project_id__in=visible_projects(user))


#: The columns a list row shows (and its ordering keys): never the long texts (description,
#: code snippet, remediation, extra), which a page of 500 would otherwise drag along.
LIST_COLUMNS = (
    *(
        "id project target tool_id title severity severity_rank severity_override status "
        "rule_id cwe cve file_path line_start line_end url package_name package_version due_date "
        "tags first_seen_at resolved_at first_seen_scan resolved_at_scan"
    ).split(),
    "assignee__id",
    "assignee__username",
)


def findings_list(user) -> QuerySet[Finding]:
    """The list's rows. The visible project ids are read first and given to the page query as
    constants: PostgreSQL then estimates the page from the findings' own statistics and reads
    one index range. As a subquery over projects (a small table that autovacuum never analyzes:
    fewer than 50 changed rows) it assumes a default 0.5% of the findings match, and sorts all
    of the caller's findings for every page instead (about a second at 100,000 findings)."""
    if not user or not user.is_authenticated:
        return Finding.objects.none()
    project_ids = [row["pk"] for row in visible_projects(user)]
    return (
        Finding.objects.filter(project_id__in=project_ids)
        .select_related("assignee")
        .only(*LIST_COLUMNS)
        .with_sighting()
    )


def finding_detail_for(user, pk) -> Finding | None:
    return findings_detail(user).filter(pk=pk).first()


def findings_detail(user) -> QuerySet[Finding]:
    history = FindingHistory.objects.select_related("actor").order_by("-created_at", "-id")
    comments = FindingComment.objects.select_related("author").order_by("-created_at", "-id")
    return (
        findings_for(user)
        .with_sighting()
        .select_related("assignee", "risk_accepted_by", "project", "target")
        .prefetch_related(
            Prefetch("history", queryset=history[:DETAIL_HISTORY_LIMIT], to_attr="recent_history"),
            Prefetch(
                "comments", queryset=comments[:DETAIL_COMMENTS_LIMIT], to_attr="recent_comments"
            ),
        )
    )


def finding_comments(finding: Finding) -> QuerySet[FindingComment]:
    return FindingComment.objects.filter(finding=finding).select_related("author")


def writable_organization_ids(user) -> set[int]:
    """Organizations where the caller may triage (member and above)."""
    return set(organization_ids_for(user, WRITE))


# --- keyset pages ---------------------------------------------------------------------------
class RowCompare(Expression):
    """`(a, b) < (x, y)` (or `>`): a row-value comparison, which PostgreSQL answers from a
    composite index as one range, so a page deep in the list costs what the first one does."""

    output_field = BooleanField()

    def __init__(self, left: list, operator: str, right: list):
        super().__init__()
        self.left, self.operator, self.right = list(left), operator, list(right)

    def get_source_expressions(self):
        return [*self.left, *self.right]

    def set_source_expressions(self, exprs):
        n = len(self.left)
        self.left, self.right = list(exprs[:n]), list(exprs[n:])

    def as_sql(self, compiler, connection):
        parts, params = [], []
        for side in (self.left, self.right):
            sql = []
            for expression in side:
                s, p = compiler.compile(expression)
                sql.append(s)
                params.extend(p)
            parts.append(f"({', '.join(sql)})")
        return f"{parts[0]} {self.operator} {parts[1]}", params


def _key_value(column: str, raw: Any):
    """A cursor's JSON value back into the column's type (ValueError when it is not one)."""
    if column in ("id", "severity_rank"):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(column)
        return raw
    value = parse_date(str(raw)) if column == "due_date" else parse_datetime(str(raw))
    if value is None:
        raise ValueError(column)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # A forged cursor's UTC offset may lie beyond PostgreSQL's ±15:59 (a DataError), or the
        # date have no UTC equivalent (OverflowError): in UTC, or an invalid cursor.
        try:
            value = value.astimezone(UTC)
        except OverflowError:
            raise ValueError(column) from None
    return value


def key_of(row: Finding, ordering: str) -> list:
    """The ordering keys of a row, JSON-ready (for the next/previous cursors); a missing due
    date is None."""
    out = []
    for column, _ in ORDERINGS[ordering]:
        value = getattr(row, column)
        out.append(value.isoformat() if isinstance(value, date | datetime) else value)
    return out


def _segments(queryset: QuerySet, keys) -> list[tuple[QuerySet, tuple]]:
    """The list in `keys` order as consecutive segments, each an index range of its own: a
    nullable first key (due_date) puts the rows without one after all others, by id."""
    column, descending = keys[0]
    if column == "last_seen_at":
        # The sightings' (seen_at, finding) index walks these pages: an inner join.
        return [(queryset.with_sighting().filter(sighting__isnull=False), keys)]
    if column != "due_date":
        return [(queryset, keys)]
    return [
        (queryset.filter(due_date__isnull=False), keys),
        (queryset.filter(due_date__isnull=True), (("id", descending),)),
    ]


def _walk(queryset: QuerySet, keys, after: list | None, backwards: bool, limit: int) -> list:
    """Up to `limit` rows of one segment after (or before) the key, in walking order."""
    order = []
    for column, descending in keys:
        order.append(F(column).desc() if descending != backwards else F(column).asc())
    qs = queryset.order_by(*order)
    if after is not None:
        values = [
            Value(_key_value(column, raw)) for (column, _), raw in zip(keys, after, strict=True)
        ]
        # All keys of an ordering share one direction, so one row comparison expresses it.
        descending = keys[0][1] != backwards
        left = [F(column) for column, _ in keys]
        qs = qs.filter(RowCompare(left, "<" if descending else ">", values))
    return list(qs[:limit])


def findings_page(
    queryset: QuerySet[Finding],
    *,
    ordering: str = DEFAULT_ORDERING,
    after: list | None = None,
    backwards: bool = False,
    limit: int,
) -> tuple[list[Finding], bool]:
    """One page of `queryset` in `ordering`: the `limit` rows after the key `after` (or before
    it, walking backwards, returned in the list's order), and whether more rows lie beyond them
    in the walking direction. Each query is an index range scan from the key, so page 1,000
    costs what page 1 does (one query; two where a due date ordering crosses to the rows
    without one)."""
    keys = ORDERINGS[ordering]
    segments = _segments(queryset, keys)
    start, key = 0, after
    if after is not None:
        if not isinstance(after, list) or len(after) != len(keys):
            raise ValueError("cursor")
        if len(segments) > 1 and after[0] is None:  # a position among the rows without one
            start, key = 1, after[-1:]
    elif backwards:
        raise ValueError("cursor")
    step = -1 if backwards else 1
    rows: list[Finding] = []
    index = start
    while 0 <= index < len(segments) and len(rows) <= limit:
        segment, segment_keys = segments[index]
        rows += _walk(segment, segment_keys, key, backwards, limit + 1 - len(rows))
        index, key = index + step, None
    more = len(rows) > limit
    rows = rows[:limit]
    return (rows[::-1] if backwards else rows), more
