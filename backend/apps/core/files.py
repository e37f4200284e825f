"""Serving protected files (raw scanner output): the API checks access, then nginx sends the
file through its internal location (X-Accel-Redirect), or Django streams it when not behind it."""

import mimetypes
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse


def protected_media_response(relative: str, *, download_name: str | None = None):
    """A response for MEDIA_ROOT/relative; 404 when it is missing or escapes MEDIA_ROOT."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if not relative or not path.is_relative_to(root) or not path.is_file():
        raise Http404("The file is not available.")
    name = download_name or path.name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type.startswith("text/html") or content_type == "image/svg+xml":
        content_type = "text/plain"  # never let scanner output render as a page
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    if settings.SECULITE_X_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.SECULITE_X_ACCEL_PREFIX + quote(
            str(path.relative_to(root))
        )
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
