"""The objects the fuzzer's paths point at, made through the live API (and, where the API needs
an e-mail round trip, through the database): an organization owned by the fuzzing user with a
second member, a project with a target, a group, a scan configuration, two finished scans with
findings and a comment, a notification webhook with a delivery, an invitation, a report import;
a staff user for the platform-admin endpoints."""

from __future__ import annotations

from dataclasses import dataclass, field

import requests

from verify.load_stack import NginxStack

PASSWORD = "Live-Stack-Passw0rd!"  # tests/live.py's sign_up uses it for every user
SARIF = b"""{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "fuzz", "rules": []}},
"results": [{"ruleId": "FZ1", "level": "warning", "message": {"text": "seeded"},
"locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a.py"},
"region": {"startLine": 3}}}]}]}]}"""


def login(stack: NginxStack, username: str) -> str:
    status, body = stack.api(
        "POST", "/api/v1/auth/login/", {"username": username, "password": PASSWORD}, auth=False
    )
    assert status == 200, body
    return body["token"]


@dataclass
class FuzzWorld:
    owner_token: str = ""
    staff_token: str = ""
    ids: dict[str, object] = field(default_factory=dict)

    def path_parameters(self, path: str) -> dict[str, object]:
        """Real ids for the template `path`: each `{id}` is the object named by the segment
        before it; the named parameters are fixed."""
        values: dict[str, object] = {}
        parts = path.strip("/").split("/")
        for index, part in enumerate(parts):
            if not (part.startswith("{") and part.endswith("}")):
                continue
            name = part[1:-1]
            key = parts[index - 1] if name == "id" else name
            if key not in self.ids:
                raise KeyError(f"no real object for {{{name}}} in {path}")
            values[name] = self.ids[key]
        return values


def build_world(stack: NginxStack, tool: str) -> FuzzWorld:
    world = FuzzWorld()
    stack.sign_up("fuzzmember")
    stack.sign_up("fuzzstaff")
    stack.query("UPDATE users_user SET is_staff = true WHERE username = 'fuzzstaff'")
    world.staff_token = login(stack, "fuzzstaff")
    stack.sign_up("fuzzowner")
    world.owner_token = stack.token
    ids = world.ids

    def created(method: str, path: str, body=None, expect: int = 201) -> dict:
        status, answer = stack.api(method, path, body)
        assert status == expect, (path, answer)
        return answer

    ids["organizations"] = ids["organization_pk"] = created(
        "POST", "/api/v1/organizations/", {"name": "Fuzz Org"}
    )["id"]
    (member_user,) = stack.query("SELECT id FROM users_user WHERE username = 'fuzzmember'")[0]
    (ids["members"],) = stack.query(
        "INSERT INTO users_organizationmembership "
        "(organization_id, user_id, role, joined_at, created_at, updated_at) "
        "VALUES (%s, %s, 'member', now(), now(), now()) RETURNING id",
        (ids["organizations"], member_user),
    )[0]
    ids["invitations"] = created(
        "POST",
        f"/api/v1/organizations/{ids['organizations']}/members/",
        {"email": "invitee@example.org", "role": "member"},
    )["id"]

    project = created(
        "POST", "/api/v1/projects/", {"name": "Fuzz", "organization": ids["organizations"]}
    )["id"]
    ids["projects"] = ids["project_pk"] = project
    target = stack.tiny_target(project)
    ids["targets"] = target
    ids["targetgroups"] = created(
        "POST", f"/api/v1/projects/{project}/targetgroups/", {"name": "g", "targets": [target]}
    )["id"]
    config = created(
        "POST",
        f"/api/v1/projects/{project}/scanconfigurations/",
        {"name": "fuzz", "target_assets": [target], "tools_and_configs": [{"tool_id": tool}]},
    )["id"]
    ids["scanconfigurations"] = config
    hook = created(
        "POST", f"/api/v1/projects/{project}/scanconfigurations/{config}/rotate-webhook/", None, 200
    )
    ids["token"] = hook["webhook_url"].rstrip("/").rsplit("/", 1)[1]

    scans = []
    for _ in range(2):
        launched = created(
            "POST", f"/api/v1/projects/{project}/scanconfigurations/{config}/launch/", None, 202
        )
        scan = stack.wait_scan(launched["id"], timeout=180)
        assert scan["status"] == "completed", scan
        scans.append(scan)
    ids["scans"] = scans[-1]["id"]
    ids["base_scan"] = scans[0]["id"]
    ids["result_pk"] = scans[-1]["tool_results"][0]["id"]

    status, page = stack.api("GET", f"/api/v1/findings/?project_id={project}")
    assert status == 200 and page["results"], page
    ids["findings"] = ids["finding_pk"] = page["results"][0]["id"]
    created("POST", f"/api/v1/findings/{ids['findings']}/comments/", {"body": "seeded"})

    webhook = created(
        "POST",
        f"/api/v1/projects/{project}/webhooks/",
        {"name": "hook", "url": "http://127.0.0.1:9/seculite-fuzz"},
    )["id"]
    ids["webhooks"] = webhook
    delivery = created("POST", f"/api/v1/projects/{project}/webhooks/{webhook}/ping/", None, 202)
    ids["delivery_pk"] = delivery["id"]

    answer = requests.post(
        f"{stack.base}/api/v1/projects/{project}/imports/",
        headers={"Authorization": f"Token {world.owner_token}"},
        files={"file": ("seed.sarif", SARIF, "application/json")},
        timeout=60,
    )
    assert answer.status_code == 202, answer.text

    (ids["audit-events"],) = stack.query("SELECT max(id) FROM users_auditevent")[0]
    ids["tool_id"] = tool
    return world
