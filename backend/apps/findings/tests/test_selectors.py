"""Selectors of findings: the list's page query names the caller's projects as constants.

With a subquery over projects instead, PostgreSQL estimates the page from default statistics
(projects is a small table autovacuum never analyzes) and sorted every finding of the caller's
projects for each page: the load suite (verify/test_load.py) measured 4 requests a second on the
findings list with 20,000 findings."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.findings import selectors

from .test_triage_api import seed

pytestmark = pytest.mark.django_db


def page_sql(user) -> str:
    with CaptureQueriesContext(connection) as queries:
        list(selectors.findings_list(user).order_by("-severity_rank", "-id")[:51])
    return queries.captured_queries[-1]["sql"]


def test_the_list_names_the_visible_projects_as_constants(world):
    seed(world, 3)
    user = get_user_model().objects.get(pk=world.users["member"].pk)
    sql = page_sql(user)
    match = re.search(r'"project_id" IN \(([^)]*)\)', sql)
    assert match, sql
    assert match.group(1).replace(" ", "") == str(world.project_a.pk)
    assert "projects_project" not in sql
    rows = list(selectors.findings_list(user))
    assert len(rows) == 3 and {r.project_id for r in rows} == {world.project_a.pk}


def test_the_list_of_a_user_without_projects_is_empty(world):
    seed(world, 2)
    outsider = get_user_model().objects.get(pk=world.users["outsider"].pk)
    assert list(selectors.findings_list(outsider)) == []
    world.project_a.is_active = False
    world.project_a.save(update_fields=["is_active"])
    member = get_user_model().objects.get(pk=world.users["member"].pk)
    assert list(selectors.findings_list(member)) == []
