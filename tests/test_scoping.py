"""A town's staff never see another town's rows: every GET route, JSON and pages, now and later.

Routes are found by walking the app, so a new route joins this test without anyone remembering.
A route with a path parameter needs a row for it below (`_ids`); an unknown parameter fails the test
until someone adds it, and a route that is truly public must be named in PUBLIC with a reason.
"""

import contextlib
import json

import pytest

from tests.factories import B_MARKERS, COMMUNITY_A, COMMUNITY_B, TOWN_A, TOWN_B, login, page_login
from tests.routes import all_routes, fill_path
from zhili.app import create_app

# Routes that show no jurisdiction data at all.
PUBLIC = {
    "/login": "the sign-in form",
    "/healthz": "liveness probe",
    "/": "redirects to the home page",
    "/docs": "OpenAPI viewer",
    "/openapi.json": "OpenAPI document",
    "/docs/oauth2-redirect": "OpenAPI viewer",
}
# Filters a leak could hide behind: every list route is also asked for town B through them.
# Routes that need query parameters to answer at all: the town A and town B values (a detail: B is 404),
# or the one value for a list (both towns have rows behind it; A must see only its own).
REQUIRED_QUERY: dict[str, tuple[dict[str, str], dict[str, str] | None]] = {
    "/api/v1/routing/preview": ({"category_code": "T.SHZA", "region_code": COMMUNITY_A},
                                {"category_code": "T.SHZA", "region_code": COMMUNITY_B}),
    "/api/v1/appeals": ({"phone": "13800138000"}, None),  # the same caller in both towns
    "/assessment/orders": ({"dimension": "town", "key": TOWN_A[:9], "kpi": "closure", "part": "denominator"},
                           {"dimension": "town", "key": TOWN_B[:9], "kpi": "closure", "part": "denominator"}),
}
LEAKY_FILTERS = {"within": TOWN_B, "region_code": TOWN_B, "parent_code": TOWN_B, "code": TOWN_B, "q": "乙镇"}


def get_routes() -> list[str]:
    paths = {path for path, methods in all_routes(create_app()) if "GET" in methods}
    return sorted(paths - set(PUBLIC))


@pytest.fixture
def seeded(world, client):
    login(client, "townb-admin")  # town B audit rows
    return world


def _leaks(text: str) -> list[str]:
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return [m for m in B_MARKERS if m in text]


@pytest.mark.parametrize("route", get_routes())
def test_town_a_staff_never_see_town_b(route, seeded, client):
    is_api = route.startswith("/api/")
    if is_api:
        headers = login(client, "towna-admin")
    else:
        page_login(client, "towna-admin")
        headers = {}
    if "{" in route:
        own = client.get(fill_path(route, seeded.path_ids("A")), headers=headers)
        assert own.status_code == 200, f"{route} for a town A row: {own.status_code} {own.text[:300]}"
        b_path = fill_path(route, seeded.path_ids("B"))
        if b_path == fill_path(route, seeded.path_ids("A")):
            return  # a deployment-wide row (a category): the same for both towns, nothing to hide
        other = client.get(b_path, headers=headers)
        assert other.status_code == 404, f"{route} for a town B row answered {other.status_code}, not 404"
        # Echoing the identifier the caller typed is no leak; anything more about the row is.
        echoed = other.text
        for value in seeded.path_ids("B").values():
            echoed = echoed.replace(str(value), "")
        assert not _leaks(echoed), f"{route} 404 answer tells about town B rows"
        return
    if route in REQUIRED_QUERY:
        own_query, other_query = REQUIRED_QUERY[route]
        own = client.get(route, params=own_query, headers=headers)
        assert own.status_code == 200, f"{route}: {own.status_code} {own.text[:300]}"
        if other_query is None:
            assert not _leaks(own.text), f"{route} shows town B rows: {_leaks(own.text)}"
            return
        other = client.get(route, params=other_query, headers=headers)
        assert other.status_code == 404, f"{route} with town B parameters answered {other.status_code}"
        return
    plain = client.get(route, headers=headers)
    assert plain.status_code == 200, f"{route}: {plain.status_code} {plain.text[:300]}"
    assert not _leaks(plain.text), f"{route} shows town B rows: {_leaks(plain.text)}"
    for name, value in LEAKY_FILTERS.items():
        r = client.get(route, params={name: value}, headers=headers)
        assert r.status_code < 500, f"{route}?{name}={value}: {r.status_code}"
        shown = r.text.replace(f'value="{value}"', "")  # a search box keeps what was typed
        if r.status_code == 404:
            shown = shown.replace(value, "")  # "X 不存在" names only what was asked for
        assert not _leaks(shown), f"{route}?{name}={value} shows town B rows: {_leaks(shown)}"


def test_the_county_sees_both_towns(seeded, client):
    """The control: the same markers do show up where they should, so the test above can fail."""
    headers = login(client, "county-admin")
    text = client.get("/api/v1/grids", headers=headers).text
    assert _leaks(text) and COMMUNITY_A in text
