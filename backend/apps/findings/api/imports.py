"""Report imports: `POST /projects/{id}/imports/` (multipart) uploads a report that a worker
turns into findings; `GET` lists the project's imports.

The upload is written straight to MEDIA_ROOT/imports/%Y/%m/%d/<uuid> as it arrives (never held
in memory), and refused with 413 past SECULITE_MAX_UPLOAD_MB (nginx's client_max_body_size says
the same). Whatever the request body, the answer is a 202 or a 4xx in the API's error shape."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, mixins, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.projects.views import ProjectNestedMixin
from apps.scans.serializers import ScanSerializer
from apps.users.views import as_api_error

from ..formats import available_formats
from ..models import ReportImport
from ..services.imports import UPLOAD_DIR, StoredUpload, report_import_create

FILE_FIELD = "file"
#: Multipart framing and the small fields around the file.
BODY_OVERHEAD = 1024 * 1024


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_large"

    def __init__(self, limit_mb: int):
        super().__init__(f"The report is larger than the {limit_mb} MB upload limit.")


def max_upload_bytes() -> int:
    return settings.SECULITE_MAX_UPLOAD_MB * 1024 * 1024


class _StoredFile(UploadedFile):
    """The uploaded report, already on disk under MEDIA_ROOT."""

    def __init__(self, handle, *, name: str, size: int, relative_path: str):
        super().__init__(handle, name=name, size=size)
        self.relative_path = relative_path


class ImportUploadHandler(FileUploadHandler):
    """Writes the `file` field to its final place chunk by chunk, counting bytes against the
    limit; any other file field is skipped. `discard()` removes what it wrote."""

    chunk_size = 1024 * 1024  # Django's 64 KB makes its multipart parser slow on big reports

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.stored: Path | None = None
        self.relative = ""
        self._out = None
        self._size = 0
        self._taken = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + BODY_OVERHEAD:
            raise UploadTooLarge(settings.SECULITE_MAX_UPLOAD_MB)

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != FILE_FIELD or self._taken:
            raise SkipFile()
        self._taken = True
        stamp = timezone.now()
        self.relative = f"{UPLOAD_DIR}/{stamp:%Y/%m/%d}/{uuid.uuid4().hex}"
        self.stored = Path(settings.MEDIA_ROOT) / self.relative
        self.stored.parent.mkdir(parents=True, exist_ok=True)
        self._out = self.stored.open("xb")

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > self.limit:
            self.discard()
            raise UploadTooLarge(settings.SECULITE_MAX_UPLOAD_MB)
        self._out.write(raw_data)
        return None

    def file_complete(self, file_size):
        if self._out is None:
            return None
        self._out.close()
        self._out = None
        return _StoredFile(
            self.stored.open("rb"),
            name=self.file_name or "report",
            size=self._size,
            relative_path=self.relative,
        )

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.stored is not None:
            self.stored.unlink(missing_ok=True)
            self.stored = None


@extend_schema_field(OpenApiTypes.BINARY)
class ReportFileField(serializers.FileField):
    """The multipart file part: `format: binary` in the schema. A plain FileField is described
    by its response form (a URI), and clients generated from the schema, the fuzzer among them,
    would send a text field instead of a file."""


class ReportImportCreateSerializer(serializers.Serializer):
    file = ReportFileField(
        allow_empty_file=True,
        help_text="The report: SARIF 2.1.0 or a scanner's native JSON/XML report.",
    )
    target_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**63 - 1,
        help_text='A target of the project; without it, the project\'s "Imported reports".',
    )
    format = serializers.ChoiceField(
        choices=[],
        required=False,
        allow_blank=True,
        help_text="The report's format; detected from the content when left out.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = available_formats()


class ReportImportSerializer(serializers.ModelSerializer):
    scan_id = serializers.IntegerField(read_only=True)
    target_id = serializers.IntegerField(read_only=True, allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None, read_only=True)
    status = serializers.CharField(source="scan.status", read_only=True)

    class Meta:
        model = ReportImport
        fields = [
            "id",
            "scan_id",
            "status",
            "target_id",
            "original_name",
            "size_bytes",
            "requested_format",
            "detected_format",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ImportScanSerializer(ScanSerializer):
    """The import's scan, with what was uploaded."""

    report_import = ReportImportSerializer(read_only=True)

    class Meta(ScanSerializer.Meta):
        fields = [*ScanSerializer.Meta.fields, "report_import"]
        read_only_fields = fields


class ReportImportListCreateApi(ProjectNestedMixin, mixins.ListModelMixin, generics.GenericAPIView):
    """Imports of a project: list them, or upload a report (member and above)."""

    parser_classes = [MultiPartParser]
    serializer_class = ReportImportSerializer
    queryset = ReportImport.objects.none()  # for the schema; requests use get_queryset
    _upload: ImportUploadHandler | None = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return (
            ReportImport.objects.filter(project=self.project)
            .select_related("scan", "created_by")
            .order_by("-created_at", "-id")
        )

    def initialize_request(self, request, *args, **kwargs):
        # Before anything reads the body (the CSRF check of session authentication does).
        if request.method == "POST":
            self._upload = ImportUploadHandler(request)
            request.upload_handlers = [self._upload]
        return super().initialize_request(request, *args, **kwargs)

    def handle_exception(self, exc):
        if self._upload is not None:
            self._upload.discard()
        if isinstance(exc, RequestDataTooBig):
            exc = UploadTooLarge(settings.SECULITE_MAX_UPLOAD_MB)
        elif isinstance(exc, (SuspiciousOperation, MultiPartParserError, UnreadablePostError)):
            exc = exceptions.ParseError(f"The multipart request could not be read: {exc}")
        return super().handle_exception(exc)

    @extend_schema(responses=ReportImportSerializer(many=True))
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": ReportImportCreateSerializer},
        responses={
            202: ImportScanSerializer,
            400: OpenApiResponse(description="No file, an unknown format or target."),
            413: OpenApiResponse(description="The file is larger than the upload limit."),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = ReportImportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stored = data["file"]
        if not isinstance(stored, _StoredFile):
            raise exceptions.ValidationError({FILE_FIELD: ["Send the report as a file."]})
        stored.close()
        upload = StoredUpload(
            relative_path=stored.relative_path,
            # Shown in lists and logs: no control characters (terminal escapes, line breaks).
            original_name="".join(c for c in Path(stored.name or "").name if c.isprintable())
            or "report",
            size=stored.size,
        )
        try:
            scan = report_import_create(
                project=self.project,
                upload=upload,
                user=request.user,
                target_id=data.get("target_id"),
                requested_format=data.get("format") or "",
            )
        except DjangoValidationError as exc:
            raise as_api_error(exc) from None
        self._upload = None  # the file is the import's now
        scan = type(scan).objects.select_related("report_import", "triggered_by").get(pk=scan.pk)
        return Response(ImportScanSerializer(scan).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path(
        "projects/<int:project_pk>/imports/",
        ReportImportListCreateApi.as_view(),
        name="project-import-list",
    ),
]
