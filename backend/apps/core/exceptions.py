"""One error shape for the whole API: {"detail", "errors": {field: [messages]}, "error_code"}."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
)
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("seculite.api")


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into {"field" or "field.sub": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, dict | list) and item:
                sub = f"{prefix}.{index}" if prefix else str(index)
                for k, v in _flatten(item, sub).items():
                    out.setdefault(k, []).extend(v)
            elif not isinstance(item, dict | list):
                out.setdefault(prefix or "non_field_errors", []).append(str(item))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the server accepts."
    default_code = "request_too_large"


def error_body(detail: str, error_code: str, errors: dict | None = None) -> dict:
    return {"detail": detail, "errors": errors or {}, "error_code": error_code}


def api_exception_handler(exc, context):
    """DRF exception handler producing SecuLite's error shape, also for unexpected failures."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # A body past DATA_UPLOAD_MAX_MEMORY_SIZE, met when a view reads request.data.
        exc = RequestTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # Django's own limits on what a request may carry (DATA_UPLOAD_MAX_NUMBER_FIELDS, ...):
        # the client's fault, a 400 as Django itself answers, never a 500.
        exc = exceptions.ParseError(f"The request could not be read: {exc}")

    if isinstance(exc, exceptions.ValidationError):
        response = drf_exception_handler(exc, context)
        codes = exc.get_codes()
        first = _flatten(codes)
        code = next(iter(first.values()))[0] if first else "invalid"
        errors = _flatten(exc.detail)
        message = "Invalid input."
        if list(errors) == ["non_field_errors"] and len(errors["non_field_errors"]) == 1:
            message = errors["non_field_errors"][0]
        response.data = error_body(message, code if code != "invalid" else "invalid", errors)
        return response

    if isinstance(exc, exceptions.APIException):
        response = drf_exception_handler(exc, context)
        detail = exc.detail
        if isinstance(detail, dict | list):
            errors = _flatten(detail)
            response.data = error_body(str(exc.default_detail), exc.default_code, errors)
        else:
            response.data = error_body(str(detail), getattr(detail, "code", exc.default_code))
        return response

    if isinstance(exc, DataError):
        # A value the database cannot store or compare (out of range, malformed) that the
        # validation let through: the request's fault, and nothing was written.
        logger.warning("database refused a value while serving %s", _path(context))
        return Response(
            error_body("A value in the request is out of range or malformed.", "invalid"),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, IntegrityError):
        # A concurrent request wrote the same unique thing first.
        logger.warning("integrity conflict while serving %s", _path(context))
        return Response(
            error_body("The request conflicts with the current state; try again.", "conflict"),
            status=status.HTTP_409_CONFLICT,
        )
    # Connection loss, a server shutting down, a lock or statement timeout: the database, not
    # the request, so 503 and try again. A programming error is a bug: 500 below.
    if isinstance(exc, DatabaseError) and not isinstance(exc, ProgrammingError | NotSupportedError):
        logger.error(
            "database unavailable while serving %s: %s", _path(context), type(exc).__name__
        )
        return Response(
            error_body("The database is unavailable; try again shortly.", "service_unavailable"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )

    logger.exception("unhandled error while serving %s", _path(context))
    return Response(
        error_body("Internal server error.", "server_error"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _path(context) -> str:
    request = context.get("request") if context else None
    return getattr(request, "path", "?")


def json_not_found(request, exception=None):
    """handler404: JSON in the API's shape under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("Not found.", "not_found"), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_server_error(request):
    """handler500: JSON in the API's shape under /api/, never a stack trace."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("Internal server error.", "server_error"), status=500)
    from django.views.defaults import server_error

    return server_error(request)
