"""Lists answer {"next", "previous", "results"}, page_size up to 500, without COUNT(*)."""

import pytest

from apps.core.models import Heartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.urls("apps.core.tests.urls")]


@pytest.fixture
def heartbeats():
    from django.utils import timezone

    now = timezone.now()
    Heartbeat.objects.bulk_create(Heartbeat(name=f"hb-{i:04d}", last_seen=now) for i in range(620))


def test_default_page_and_links(client, heartbeats):
    body = client.get("/api/v1/heartbeats/").json()
    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) == 50
    assert body["results"][0]["name"] == "hb-0000"
    assert body["previous"] is None
    assert body["next"].endswith("/api/v1/heartbeats/?page=2")


def test_page_size_is_capped_at_500(client, heartbeats):
    body = client.get("/api/v1/heartbeats/?page_size=10000").json()
    assert len(body["results"]) == 500
    second = client.get("/api/v1/heartbeats/?page_size=500&page=2").json()
    assert len(second["results"]) == 120
    assert second["next"] is None
    assert second["previous"].endswith("page_size=500")
    assert second["results"][0]["name"] == "hb-0500"


def test_middle_page_links_keep_other_parameters(client, heartbeats):
    body = client.get("/api/v1/heartbeats/?page_size=100&page=3").json()
    assert "page=4" in body["next"] and "page_size=100" in body["next"]
    assert "page=2" in body["previous"]


def test_one_query_per_page_and_no_count(client, heartbeats, django_assert_num_queries):
    with django_assert_num_queries(1) as ctx:
        client.get("/api/v1/heartbeats/?page=5")
    assert "COUNT" not in ctx.captured_queries[0]["sql"].upper()


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_size=-1", "page=99"])
def test_bad_or_empty_pages(client, heartbeats, query):
    response = client.get(f"/api/v1/heartbeats/?{query}")
    if query == "page=99":
        assert response.status_code == 200
        assert response.json()["results"] == []
    else:
        assert response.status_code == 404
        assert response.json()["error_code"] == "not_found"


def test_a_page_past_any_possible_row_is_empty_without_a_query(
    client, heartbeats, django_assert_num_queries
):
    """Found by schemathesis (verify/test_fuzz.py): ?page=94405889939210286500047545696256 made
    an OFFSET beyond PostgreSQL's bigint, a DataError answered 503 "database unavailable"."""
    huge = 94405889939210286500047545696256
    with django_assert_num_queries(0):
        response = client.get(f"/api/v1/heartbeats/?page={huge}&page_size=500")
    assert response.status_code == 200
    body = response.json()
    assert body["results"] == [] and body["next"] is None
    assert f"page={huge - 1}" in body["previous"]
