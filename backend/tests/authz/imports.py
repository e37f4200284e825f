"""Authorization-matrix rows of report imports (apps/findings/api/imports.py).

The matrix sends JSON bodies: an upload endpoint reads multipart only, so a caller who passes
authorization gets 415 (the role and organization checks come first: 401/403/404)."""

from tests.test_authorization_matrix import Spec, k_project_nested

MATRIX = {
    ("project-import-list", "GET"): Spec("auditor", 200, setup=k_project_nested),
    ("project-import-list", "POST"): Spec(
        "member", 415, setup=k_project_nested, body=lambda w, s: {}
    ),
}
