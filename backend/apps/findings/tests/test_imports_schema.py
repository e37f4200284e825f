"""The OpenAPI description of the report upload: its `file` is a binary multipart part.

Described as a URI (drf-spectacular's default for a FileField, which is its response form),
clients generated from the schema sent a text field, and schemathesis (verify/test_fuzz.py)
never reached the upload with a file."""

from drf_spectacular.generators import SchemaGenerator


def test_the_upload_file_is_a_binary_part():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/projects/{project_pk}/imports/"]["post"]
    body = operation["requestBody"]["content"]
    assert list(body) == ["multipart/form-data"]
    name = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    component = schema["components"]["schemas"][name]
    assert component["properties"]["file"]["type"] == "string"
    assert component["properties"]["file"]["format"] == "binary"
    assert "file" in component["required"]
