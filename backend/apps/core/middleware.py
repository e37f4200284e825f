"""Per-request observability: a request id (taken from a sane incoming X-Request-ID, nginx's, or
generated) returned as the X-Request-ID response header and put on every log line of the
request, and the request counters and latency histograms of /api/v1/metrics/."""

import re
import time
import uuid
from functools import lru_cache

from django.core.signals import request_finished

from . import logs, metrics

REQUEST_ID_HEADER = "X-Request-ID"
#: What an incoming request id may look like: nginx's $request_id (32 hex digits), UUIDs and
#: other plain tokens. Anything else is replaced, so that a client cannot inject text into logs.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{7,127}")
_REGEX_LEFTOVERS = re.compile(r"[()\[\]*+?\\|]")


def request_id_from(value: str | None) -> str:
    """The incoming id when it is a sane token, else a new one."""
    if value and SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


@lru_cache(maxsize=2048)
def _template(route: str) -> str:
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)  # DRF routers' regex groups
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)  # path converters
    return "/" + text.replace("^", "").replace("$", "")


def route_template(request, status: int) -> str:
    """The URL pattern that answered, e.g. `/api/v1/projects/{pk}/`: a label of bounded
    cardinality (never the raw path). `unmatched` for 404s outside every pattern, `other` for
    answers given before URL resolution (static files, redirects)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched" if status == 404 else "other"
    template = _template(match.route or "")
    if _REGEX_LEFTOVERS.search(template):
        return match.view_name or "other"
    return template


class ObservabilityMiddleware:
    """First in MIDDLEWARE: it times the whole stack and tags everything the request logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        # A fresh context: nothing of the previous request on this thread survives. It stays set
        # after the response so that django.request's 4xx/5xx line and Gunicorn's access line
        # (both logged after the middleware returned) carry it; request_finished clears it.
        logs.replace(request_id=request_id, request=request)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name and match.url_name.startswith("scan-"):
            scan_id = match.kwargs.get("pk")
            if scan_id is not None and str(scan_id).isdigit():
                logs.bind(scan_id=int(scan_id))
        metrics.http_request_observe(
            method=request.method,
            route=route_template(request, response.status_code),
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response


def _clear_context(**kwargs) -> None:
    logs.clear()


request_finished.connect(_clear_context, dispatch_uid="seculite.logs.clear_context")
