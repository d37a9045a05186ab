"""Bad input anywhere answers 4xx with a message, never 500: every write route, JSON and pages.

Like the scoping test, routes are found by walking the app, so new write routes join by themselves.
"""

import re

import pytest

from tests.factories import login, page_login
from tests.routes import all_routes, fill_path
from zhili.app import create_app

WRITE = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that change nothing in the database and take no body worth fuzzing.
EXEMPT: dict[str, str] = {}


def write_routes() -> list[tuple[str, str]]:
    return sorted((path, method) for path, methods in all_routes(create_app())
                  for method in methods & WRITE if path not in EXEMPT)


def _assert_4xx(r, what: str) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    if r.headers.get("content-type", "").startswith("application/json"):
        body = r.json()
        message = body[0]["description"] if isinstance(body, list) else body["detail"]  # Open311's error list
        assert message, f"{what}: 4xx without a message"


BIG = b"x" * (4 * 1024 * 1024 + 10)  # conftest sets the upload limit to 2 MiB, imports to 4 MiB


@pytest.mark.parametrize(("route", "method"), write_routes())
def test_write_route_refuses_bad_input_with_4xx(route, method, world, client):
    url = fill_path(route, world.path_ids("A"))
    if route.startswith("/api/"):
        _assert_4xx(client.request(method, url, content=b'{"name": ', headers={"content-type": "application/json"}),
                    f"{method} {route} without credentials")
        headers = login(client, "county-admin")
        json_headers = {**headers, "content-type": "application/json"}
        for label, body in [
            ("malformed JSON", b'{"name": "x", '),
            ("a JSON array", b"[1, 2, 3]"),
            ("wrong types", b'{"code": [1], "name": {"a": 1}, "boundary": 7, "roles": "admin", "active": "maybe"}'),
            ("wrong codes", b'{"code": "12AB", "region_code": "999999999999", "grid_code": "1", "name": "x"}'),
            ("empty body", b""),
        ]:
            r = client.request(method, url, content=body, headers=json_headers)
            if route.endswith("/revoke") and r.status_code == 200:
                continue  # revoking takes no body: any body is ignored, and that is fine
            _assert_4xx(r, f"{method} {route} with {label}")
        files = {"file": ("big.geojson", BIG, "application/geo+json")}
        _assert_4xx(client.request(method, url, files=files, headers=headers), f"{method} {route} oversize upload")
        r = client.request(method, url, content=BIG, headers=json_headers)
        assert r.status_code == 413, f"{method} {route} oversize JSON: {r.status_code}"
    else:
        token = page_login(client, "county-admin")
        _assert_4xx(client.request(method, url, data={"name": "x"}), f"{method} {route} without CSRF token")
        for label, data in [
            ("empty form", {"csrf_token": token}),
            ("garbage fields", {"csrf_token": token, "code": "12AB", "name": "", "region_code": "x" * 300,
                                "grid_code": "1", "roles": "nope", "kind": "nope", "boundary": "{",
                                "department_id": "abc", "active": "maybe", "lang": "xx", "next": "//evil"}),
        ]:
            r = client.request(method, url, data=data, follow_redirects=False)
            assert r.status_code < 500, f"{method} {route} with {label}: {r.status_code} {r.text[:300]}"
        r = client.request(method, url, data={"csrf_token": token}, files={"file": ("big.csv", BIG, "text/csv")})
        assert r.status_code in (403, 413), f"{method} {route} oversize upload: {r.status_code}"


def test_every_write_route_is_exercised():
    """The parametrised test above sees the JSON routes of the foundation at least."""
    found = {path for path, _method in write_routes()}
    assert {"/api/v1/regions", "/api/v1/grids", "/api/v1/staff", "/api/v1/departments"} <= found
    assert any(re.match(r"^/api/v1/grids/\{grid_code\}$", p) for p in found)


def test_a_write_that_loses_a_race_answers_409_not_500(world, client, monkeypatch):
    """Two identical creates racing past the checks: the database's unique constraint decides."""
    from sqlalchemy import false

    from zhili.jurisdiction import service

    headers = login(client, "towna-admin")
    body = {"code": "D-A-RACE", "name": "竞争部门", "region_code": "339922001000"}
    assert client.post("/api/v1/departments", json=body, headers=headers).status_code == 201
    # The loser of the race passed the existence checks before the winner committed: its checks see nothing.
    real_select = service.select
    monkeypatch.setattr(service, "select", lambda *a, **k: real_select(service.Department.id).where(false()))
    r = client.post("/api/v1/departments", json={**body, "name": "竞争部门二"}, headers=headers)
    assert r.status_code == 409 and "冲突" in r.json()["detail"]
