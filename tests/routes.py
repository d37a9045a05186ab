"""Every route of the app, flattened (FastAPI keeps included routers as nested branches)."""

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute


def _walk(routes: list, prefix: str = "") -> Iterator[tuple[str, set[str]]]:  # type: ignore[type-arg]
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from _walk(nested.routes, prefix + (getattr(route.include_context, "prefix", "") or ""))
        elif isinstance(route, APIRoute) or hasattr(route, "methods") and getattr(route, "methods", None):
            yield prefix + route.path, set(route.methods)


def all_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    return sorted(_walk(app.routes), key=lambda r: r[0])


def fill_path(path: str, ids: dict[str, object]) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name not in ids:
            pytest.fail(f"{path}: no test row for {{{name}}}; add one to tests/factories.py::World.path_ids")
        return str(ids[name])

    return re.sub(r"\{([^}]+)\}", sub, path)
