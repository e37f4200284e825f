"""Authorization row of the Prometheus endpoint: platform staff only here. The address allowlist
(SECULITE_METRICS_ALLOWED_IPS) is empty under the test settings; apps/core/tests/test_metrics.py
tests it."""

from tests.test_authorization_matrix import STAFF, Spec

MATRIX = {
    ("metrics", "GET"): Spec(STAFF, 200),
}
