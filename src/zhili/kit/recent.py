"""Reads kept per process for a few seconds, for what every request reads and almost nothing changes
(who a token or an API key is, a category and its service definition, where the grids are).

A `Recent` map holds each value for `ttl` seconds. When this process commits a change to one of the
models a map watches (noted by SQLAlchemy session events), the map is emptied at once, so a change
shows here immediately and in the other server processes within `ttl`. Changes written past the ORM
(bulk SQL) are seen after `ttl` too.
"""

import threading
import time
from collections.abc import Callable, Hashable
from itertools import chain
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

V = TypeVar("V")
CHANGED = "zhili.recent.changed"

_maps: list["Recent[Any]"] = []


class Recent(Generic[V]):
    def __init__(self, name: str, watches: tuple[type, ...], ttl: float = 10.0, maxsize: int = 10_000) -> None:
        self.name, self.watches, self.ttl, self.maxsize = name, watches, ttl, maxsize
        self._items: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _maps.append(self)

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The value kept for `key` if younger than `ttl`, else `load()` (kept unless it raised)."""
        hit = self._items.get(key)
        at = time.monotonic()
        if hit is not None and at - hit[0] < self.ttl:
            return hit[1]
        value = load()
        with self._lock:
            if len(self._items) >= self.maxsize:
                self._items.clear()
            self._items[key] = (at, value)
        return value

    def peek(self, key: Hashable) -> tuple[bool, V | None]:
        """(True, value) if a value younger than `ttl` is kept for `key`, else (False, None)."""
        hit = self._items.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return True, hit[1]
        return False, None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def forget_all() -> None:
    """Empty every map (tests, after emptying the database underneath)."""
    for kept in _maps:
        kept.clear()


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    changed: set[type] = session.info.setdefault(CHANGED, set())
    changed.update(type(obj) for obj in chain(session.new, session.dirty, session.deleted))


@event.listens_for(Session, "after_commit")
def _forget_changed(session: Session) -> None:
    changed: set[type] | None = session.info.pop(CHANGED, None)
    if not changed:
        return
    for kept in _maps:
        if any(issubclass(model, kept.watches) for model in changed):
            kept.clear()
