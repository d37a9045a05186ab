"""`zhili bench dashboard --json [--orders N]`: the command map and the assessment ledger over five years of
a county's work orders (issue 7).

On a fresh database the demo county is seeded as `zhili seed demo` seeds it (regions, grids, departments,
staff, the standard catalogue with the demo's responsibility rules; not the classifier), then N work
orders (default 5,000,000) are generated over the five years ending now and bulk-loaded with everything
the platform would have written for them: the order row, its appeal, its assignments, its events (with
the `clock` of zhili.work_order.service._clock on every move, and the deadline sweep's warn/overdue
marks) and the facts the projection derives from those events (zhili.assessment.facts.derive, run in the
generator on each order's events). PostgreSQL loads with COPY in chunks of CHUNK orders (the non-unique
indexes dropped first and built again afterwards, foreign-key triggers off for the load; then VACUUM
ANALYZE); SQLite with executemany, then ANALYZE. Memory stays bounded by the chunk.

Then the reads a user triggers are timed, each in its own session as a request would run it: the command
map's side panel (`command.service.summary`, with `area`) at county, town, village and grid level, the
area with its children (`area_view`) at county and town level, the open orders layer and the heat layer
for a town's viewport at zoom 13 (heat: 30 days), for the county's command leader; and the assessment
ledger (`assessment.ledger.compute`, unscoped) by department and by town for the last full month and the
last full year. The floor, measured in the same run: a plain `SELECT count(*) FROM order_events`.

Simplifications, stated: stage deadlines are the categories' own limits converted to natural time (a
working day counts 1.4 days, a working hour 3 hours) instead of the working calendar; the sweep's yellow
mark is at WARN_SHARE of the natural time; no outbox rows, attachments or notifications are written.
"""

import contextlib
import json
import math
import random
import statistics
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any

from zhili.bench import BenchContext, benchmark, timings_ms

DEFAULT_ORDERS = 5_000_000
CHUNK = 50_000
YEARS = 5
SEED = 20261124
POINTS_PER_GRID = 400
MAP_REPEAT, LEDGER_REPEAT, FLOOR_REPEAT = 20, 5, 5
TARGET_MAP_P95_MS = 300.0
TARGET_YEAR_LEDGER_MS = 2000.0
WARN_SHARE = 0.8  # the deadline sweep's yellow mark (config warn_share's default)
TOWN = "339922001000"  # 城关街道: the busiest town, whose viewport the layers are timed on
ZOOM = 13
HEAT_DAYS = 30
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai, no daylight saving
DAY = 86400

# Natural seconds per unit of a category's limit (see the module's docstring).
_UNIT_SECONDS = {"working_days": 1.4 * DAY, "working_hours": 3 * 3600, "natural_hours": 3600}

CHANNELS = (("hotline", 55), ("mobile", 12), ("web", 7), ("grid", 15), ("social", 5), ("open311", 3),
            ("sensor", 2), ("referral", 1))
APPEAL_KIND_WEIGHTS = {"ZX": 20, "QZ": 18, "TS": 35, "JB": 10, "JY": 12, "BY": 5}
URGENCIES = (("normal", 92), ("urgent", 7), ("critical", 1))
RATINGS = ((5, 55), (4, 25), (3, 12), (2, 5), (1, 3))
# Intake by local hour of day (a hotline's day): the registrations' times follow it.
HOURLY = (0.2, 0.15, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.6, 1.8, 1.8, 1.5, 1.0, 1.1, 1.6, 1.6, 1.5, 1.3, 1.0, 0.9,
          0.8, 0.6, 0.4, 0.3)
GROWTH = 1.0  # the last day sees (1 + GROWTH) times the intake of the first

OPEN = ("registered", "dispatched", "accepted", "returned", "suspended", "handled", "verified")
_STAGE = {"dispatched": "sign", "accepted": "handle", "handled": "verify", "verified": "callback"}
# How long a step takes, as a share of its limit: (median, share that runs late).
_PACE = {"sign": (0.2, 0.02), "handle": (0.35, 0.05), "verify": (0.25, 0.015), "callback": (0.3, 0.02)}

# The tables loaded, with their columns in the order the generator writes them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "work_orders": (
        "id", "code", "status", "version", "urgency", "category_id", "region_id", "region_code", "place_code",
        "grid_id", "channel", "title", "description", "address", "lon", "lat", "suggested_department_id",
        "extension_pending", "awaiting_review", "grid_report", "rework_count", "rating", "merged_into_id", "stage",
        "stage_started_at", "due_at", "handle_due_at", "clock_left_seconds", "overdue_at", "warned_at", "closed_at",
        "created_by_id", "created_at", "updated_at"),
    "appeals": (
        "id", "tracking_code", "channel", "caller_name", "caller_phone", "caller_id_number", "anonymous", "text",
        "address", "lon", "lat", "region_code", "category_id", "work_order_id", "created_by_id", "external_id",
        "source_key_id", "attributes", "media_url", "created_at", "updated_at"),
    "assignments": ("id", "work_order_id", "department_id", "role", "state", "dispatched_at", "signed_at",
                    "signed_by_id"),
    "order_events": ("id", "work_order_id", "at", "actor_id", "actor_name", "department_id", "action", "from_status",
                     "to_status", "reason", "data", "rework", "public"),
    "order_facts": (
        "order_id", "last_event_id", "place_code", "region_code", "grid_id", "category_id", "channel",
        "registered_at", "registrar_id", "lead_department_id", "dispatcher_id", "handler_id", "first_dispatch_at",
        "handled_at", "handle_due", "closed_at", "reworks", "cancelled", "merged", "rating", "answered", "repeat"),
    "dispatch_facts": ("id", "order_id", "department_id", "place_code", "region_code", "dispatcher_id",
                       "dispatched_at", "sign_due", "signed_at", "signer_id", "redirected", "automatic"),
}
SERIAL_TABLES = ("work_orders", "appeals", "assignments", "order_events", "dispatch_facts")


# The county as the generator needs it ------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int | None
    name: str
    department_id: int | None = None


@dataclass
class Place:
    """One grid, with the community (village) and town it lies in."""

    grid_id: int
    village: str  # the order's place_code
    village_name: str
    town: str  # the town's code: the order's command desk (region_code)
    town_id: int
    points: list[tuple[float, float]]
    worker: Person


@dataclass
class Kind:
    """A leaf category: its limits in natural seconds and the lead department per town."""

    id: int
    code: str
    name: str
    limits: dict[str, dict[str, int]]  # urgency -> stage -> seconds
    lead: dict[str, tuple[int, str]]  # town code -> (department id, code)


@dataclass
class County:
    places: list[Place]
    place_weights: list[float]  # cumulative
    hotline_kinds: list[Kind]
    hotline_weights: list[float]  # cumulative
    city_kinds: list[Kind]
    department_ids: dict[str, int]  # code -> id
    department_codes: dict[int, str]  # id -> code
    handlers: dict[int, Person]  # department id -> its handler account
    county_departments: list[int]  # the county's departments with a handler: re-dispatch and assist targets
    agents: list[Person]
    dispatchers: dict[str, list[Person]]  # town code -> the town's dispatcher and the county's
    leader_id: int
    town_names: dict[str, str] = field(default_factory=dict)


def _seconds(text: str) -> int:
    from zhili.kit.calendar import Limit

    limit = Limit.parse(text)
    return round(limit.amount * _UNIT_SECONDS[limit.unit.value])


def _point_pool(rng: random.Random, boundary: str, n: int) -> list[tuple[float, float]]:
    import numpy as np
    import shapely

    from zhili.kit import geo

    shape = geo.loads(boundary)
    minx, miny, maxx, maxy = shape.bounds
    gen = np.random.default_rng(rng.randrange(2**32))
    points: list[tuple[float, float]] = []
    while len(points) < n:
        xs, ys = gen.uniform(minx, maxx, 4 * n), gen.uniform(miny, maxy, 4 * n)
        inside = shapely.contains_xy(shape, xs, ys)
        points += [(round(float(x), 6), round(float(y), 6)) for x, y in zip(xs[inside], ys[inside], strict=True)]
    return points[:n]


def seed_county() -> None:
    """The demo county as `zhili seed demo` writes it, without the classifier's training."""
    from sqlalchemy import select

    from zhili.auth.passwords import hash_password
    from zhili.category.catalog import install
    from zhili.config import get_settings
    from zhili.db import session_scope
    from zhili.jurisdiction.demo import build_demo
    from zhili.models import Region

    password = get_settings().demo_password
    with session_scope() as session:
        build_demo(session, password, hash_password(password))
        county = session.scalars(select(Region).where(Region.level == "county").order_by(Region.code)).one()
        install(session, county, demo_rules=True)


def read_county(rng: random.Random) -> County:
    from sqlalchemy import select

    from zhili.category.service import effective_deadlines, suggested_lead
    from zhili.db import session_scope
    from zhili.models import Category, Department, Grid, Region, Role, Staff

    with session_scope() as session:
        regions = list(session.scalars(select(Region).order_by(Region.code)))
        by_id = {r.id: r for r in regions}
        towns = [r for r in regions if r.level == "town"]
        staff = list(session.scalars(select(Staff).order_by(Staff.id)))

        def person(s: Staff) -> Person:
            return Person(s.id, s.display_name, s.department_id)

        by_username = {s.username: s for s in staff}
        workers = {s.username[3:]: person(s) for s in staff if s.username.startswith("gw-")}
        places, weights = [], []
        for grid in session.scalars(select(Grid).order_by(Grid.code)):
            village = by_id[grid.region_id]
            town = by_id[village.parent_id]  # type: ignore[index]
            places.append(Place(grid.id, village.code, village.name, town.code, town.id,
                                _point_pool(rng, grid.boundary, POINTS_PER_GRID), workers[grid.code]))
            weights.append(3.0 if village.code[9:] < "200" else 1.0)  # communities (社区) are busier
        county_dispatchers = [person(by_username[u]) for u in ("dispatcher", "dispatcher2")]
        dispatchers = {t.code: [person(by_username[f"t{t.code[6:9]}-dispatcher"]), *county_dispatchers]
                       for t in towns}
        handlers = {s.department_id: person(s) for s in staff
                    if s.department_id is not None and Role.department_handler in s.roles}
        agents = [person(s) for s in staff if Role.hotline_agent in s.roles]
        leader = by_username["leader"]
        leaves = list(session.scalars(select(Category).where(Category.kind != "group").order_by(Category.code)))
        kinds: list[Kind] = []
        for c in leaves:
            limits: dict[str, dict[str, int]] = {}
            for d in effective_deadlines(session, c):
                limits.setdefault(d.urgency.value, {})[d.stage.value] = _seconds(d.limit)
            lead: dict[str, tuple[int, str]] = {}
            for t in towns:
                dept = suggested_lead(session, c, t)
                if dept is not None:
                    lead[t.code] = (dept.id, dept.code)
            if len(lead) == len(towns) and all(len(v) == 4 for v in limits.values()) and len(limits) == 3:
                kinds.append(Kind(c.id, c.code, c.name, limits, lead))
        departments = list(session.scalars(select(Department).order_by(Department.id)))
        department_ids = {d.code: d.id for d in departments}
        county_departments = [d.id for d in departments if d.region_id == by_username["leader"].region_id
                              and d.id in handlers]
        town_names = {t.code: t.name for t in towns}
    hotline = [k for k in kinds if k.code.startswith("12345.")]
    city = [k for k in kinds if not k.code.startswith("12345.")]
    return County(
        places=places, place_weights=list(accumulate(weights)), hotline_kinds=hotline,
        hotline_weights=list(accumulate(APPEAL_KIND_WEIGHTS.get(k.code.split(".")[1], 1) for k in hotline)),
        city_kinds=city, department_ids=department_ids, department_codes={v: k for k, v in department_ids.items()},
        handlers=handlers, county_departments=county_departments, agents=agents,
        dispatchers=dispatchers, leader_id=leader.id, town_names=town_names)


# One order's story -----------------------------------------------------------------------------


class _Stop(Exception):
    """The story reaches the present, or the order is stuck: nothing more happens to it."""


SYSTEM = Person(None, "系统")
AUTO = Person(None, "智能派单")
CITIZEN = Person(None, "群众")
OUTSIDE = Person(None, "市民App")


@lru_cache(maxsize=4096)  # an order's deadlines recur on several of its events
def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _Order:
    """The columns of one work order as the service keeps them, moved along by the workflow's rules
    (work_order.service.act and _reclock), writing an event per move as _event and _clock do."""

    __slots__ = ("gen", "limits", "events", "status", "stage", "stage_started", "due", "handle_due", "clock_left",
                 "overdue", "warned", "closed", "rating", "reworks", "extension_pending", "awaiting_review",
                 "version", "assignments", "at", "last", "moves_left")

    def __init__(self, gen: "Generator", limits: dict[str, int], created: int, moves_left: int | None) -> None:
        self.gen, self.limits = gen, limits
        self.events: list[tuple[Any, ...]] = []
        self.status = "registered"
        self.stage: str | None = None
        self.stage_started: int | None = None
        self.due: int | None = None
        self.handle_due: int | None = None
        self.clock_left: int | None = None
        self.overdue: int | None = None
        self.warned: int | None = None
        self.closed: int | None = None
        self.rating: int | None = None
        self.reworks = 0
        self.extension_pending = self.awaiting_review = False
        self.version = 1
        self.assignments: list[list[Any]] = []  # [department id, role, state, dispatched, signed, signer]
        self.at = self.last = created
        self.moves_left = moves_left

    # The event log --------------------------------------------------------------------------------

    def _clock(self) -> dict[str, Any]:
        if self.stage is None and self.handle_due is None:
            return {}
        return {"clock": {"stage": self.stage, "due": _iso(self.due) if self.due is not None else None,
                          "handle_due": _iso(self.handle_due) if self.handle_due is not None else None}}

    def _event(self, at: int, action: str, before: str | None, actor: Person, data: dict[str, Any], reason: str = "",
               rework: bool = False, public: bool = True) -> None:
        self.events.append((at, action, before, self.status, actor, reason, data, rework, public))
        self.last = at

    def register(self, actor: Person, channel: str) -> None:
        self._event(self.at, "register", None, actor, {"channel": channel})

    def sweep(self, until: int) -> None:
        """The deadline sweep's marks on the running clock before `until`: yellow at WARN_SHARE, red at due."""
        if self.stage is None or self.due is None or self.overdue is not None or self.stage_started is None:
            return
        limit = min(until, self.gen.now)
        rng = self.gen.rng
        if self.warned is None:
            at = max(self.stage_started + int(WARN_SHARE * (self.due - self.stage_started)), self.last) \
                + rng.randint(1, 60)
            if at < self.due and at < limit:
                self.warned = at
                self._event(at, "warn", self.status, SYSTEM, {"stage": self.stage, "due_at": _iso(self.due)},
                            public=False)
        at = max(self.due, self.last) + rng.randint(1, 60)
        if at < limit:
            self.overdue = at
            self._event(at, "overdue", self.status, SYSTEM, {"stage": self.stage, "due_at": _iso(self.due)},
                        public=False)

    # A move ---------------------------------------------------------------------------------------

    def move(self, gap: float, action: str, to: str, actor: Person, data: dict[str, Any] | None = None, *,
             reason: str = "", rework: bool = False, clock: str | None = None, new_handle_due: int | None = None,
             public: bool = True, effect: Callable[[int], None] | None = None) -> int:
        at = self.at + max(1, int(gap))
        if at >= self.gen.now:
            raise _Stop
        if self.moves_left is not None:
            if self.moves_left <= 0:
                raise _Stop
            self.moves_left -= 1
        self.sweep(at)
        at = max(at, self.last + 1)
        before = self.status
        if effect is not None:
            effect(at)
        self.status = to
        if rework:
            self.reworks += 1
        self._reclock(at, action, rework, clock, new_handle_due)
        if to in ("closed", "cancelled"):
            self.closed = at
        self.version += 1
        self.at = at
        self._event(at, action, before, actor, {**(data or {}), **self._clock()}, reason, rework, public)
        return at

    def _reclock(self, at: int, action: str, rework: bool, clock: str | None, new_handle_due: int | None) -> None:
        """zhili.work_order.service._reclock, in natural seconds."""
        if clock == "stop":
            self.clock_left = self.handle_due - at if self.handle_due is not None else None
        if new_handle_due is not None:
            self.handle_due = new_handle_due
        stage = _STAGE.get(self.status)
        if stage is None:
            self.stage = self.stage_started = self.due = None
            return
        entering = stage != self.stage or rework or action in ("dispatch", "reject_return")
        if stage == "sign" and entering:
            self.handle_due = at + self.limits["handle"]
        if stage == "handle":
            if clock == "start" and self.clock_left is not None:
                self.handle_due = at + max(self.clock_left, 0)
                self.clock_left = None
            elif rework:
                self.handle_due = at + self.limits["handle"]
            if self.handle_due is None:
                self.handle_due = at + self.limits["handle"]
            if entering or clock == "start":
                self.stage_started = at
            self.stage, self.due = stage, self.handle_due
            self.overdue = self.warned = None if entering else self.overdue  # as the service has it
            return
        if entering:
            self.stage, self.stage_started = stage, at
            self.due = at + self.limits[stage]
            self.overdue = self.warned = None

    # Assignments, as service._apply changes them ---------------------------------------------------------

    def _lead(self) -> list[Any] | None:
        return next((a for a in self.assignments if a[1] == "lead" and a[2] in ("pending", "signed", "done")), None)

    def assign(self, department_id: int, assists: list[int]) -> Callable[[int], None]:
        def effect(at: int) -> None:
            for a in self.assignments:
                if a[2] in ("pending", "signed"):
                    a[2] = "withdrawn"
            self.assignments.append([department_id, "lead", "pending", at, None, None])
            self.assignments += [[d, "assist", "pending", at, None, None] for d in assists]
        return effect

    def signed_by(self, signer: Person) -> Callable[[int], None]:
        def effect(at: int) -> None:
            lead = self._lead()
            assert lead is not None
            lead[2], lead[4], lead[5] = "signed", at, signer.id
        return effect

    def returned(self, at: int) -> None:
        lead = self._lead()
        assert lead is not None
        lead[2] = "returned"

    def return_rejected(self, at: int) -> None:
        next(a for a in reversed(self.assignments) if a[1] == "lead")[2] = "pending"

    def withdrawn(self, at: int) -> None:
        for a in self.assignments:
            if a[2] in ("pending", "signed"):
                a[2] = "withdrawn"

    def reported(self, at: int) -> None:
        for a in self.assignments:
            if a[2] == "signed":
                a[2] = "done"


# The generator ---------------------------------------------------------------------------------


def _pace(median: float, late: float) -> tuple[float, float]:
    """(mu, sigma) of a log-normal share of the limit with this median and this share above 1."""
    z = statistics.NormalDist().inv_cdf(1 - late)
    return math.log(median), math.log(1 / median) / z


def _day_warp() -> list[float]:
    """The inverse of the intake's cumulative share of the day, sampled per minute: a uniform fraction of
    a day becomes a fraction of the day in hotline hours."""
    minutes = [HOURLY[m // 60] for m in range(1440)]
    cdf = [0.0, *accumulate(minutes)]
    total = cdf[-1]
    cdf = [c / total for c in cdf]
    warp = []
    for i in range(1441):
        u = i / 1440
        j = min(1439, max(0, bisect_right(cdf, u) - 1))
        share = (u - cdf[j]) / (cdf[j + 1] - cdf[j]) if cdf[j + 1] > cdf[j] else 0.0
        warp.append((j + share) / 1440)
    return warp


@dataclass
class Plan:
    """What a chunk of orders takes from the orders before it: when they were registered and by whom
    (a regular caller's earlier call makes a repeat). Planned in order, cheaply; chunks are then
    generated independently (each with its own random stream and id ranges), in parallel on PostgreSQL."""

    index: int
    first: int  # the first order's id
    created: list[int]
    phones: list[str]
    repeats: list[bool]


@dataclass
class Chunk:
    rows: dict[str, list[tuple[Any, ...]]]
    orders: int
    counts: dict[str, int]


# Ids per order reserved for each chunk (a chunk's rows take ids from its own range; ids have gaps, as
# sequences do): far above the ~6.5 events, at most 3 assignments and 2 dispatches an order has.
EVENT_IDS_PER_ORDER, ROW_IDS_PER_ORDER = 16, 4


class Generator:
    """N orders over the YEARS ending at `now`, in chunks, with their rows for every table."""

    def __init__(self, county: County, n: int, now: int, seed: int = SEED, size: int = CHUNK) -> None:
        self.county, self.n, self.now, self.seed, self.size = county, n, now, seed, size
        self.plan_rng = random.Random(seed)
        self.rng = random.Random(seed)  # replaced by each chunk's own
        self.span = int(YEARS * 365.25 * DAY)
        self.start = now - self.span
        self.warp = _day_warp()
        self.today = (now + LOCAL_OFFSET) // DAY  # the local day now is in: not warped (it is not over)
        self.event_id = self.assignment_id = self.dispatch_fact_id = 1
        self.last_created = self.start
        # Callers: most call once; a pool of regulars (their count scales with N) calls again and again.
        self.regulars = [f"13{self.plan_rng.randrange(10**9):09d}" for _ in range(max(50, n // 100))]
        self.called: dict[str, int] = {}  # a regular's last call
        self.paces = {stage: _pace(*p) for stage, p in _PACE.items()}
        self.channels = [c for c, _w in CHANNELS]
        self.channel_weights = list(accumulate(w for _c, w in CHANNELS))
        self.urgencies = [u for u, _w in URGENCIES]
        self.urgency_weights = list(accumulate(w for _u, w in URGENCIES))
        self.ratings = [r for r, _w in RATINGS]
        self.rating_weights = list(accumulate(w for _r, w in RATINGS))
        self.counts: dict[str, int] = {}

    # Time -----------------------------------------------------------------------------------------

    def _created(self, start: int, end: int) -> list[int]:
        """Registration times of orders start..end-1: intake growing over the years, by hour of the day."""
        rng, g = self.plan_rng, GROWTH
        us = sorted(rng.uniform(start / self.n, end / self.n) for _ in range(end - start))
        out = []
        for u in us:
            x = (-1 + math.sqrt(1 + 2 * g * u * (1 + g / 2))) / g  # inverse of the growing density's CDF
            t = self.start + x * self.span
            local = t + LOCAL_OFFSET
            day = int(local // DAY)
            if day < self.today:
                frac = (local - day * DAY) / DAY * 1440
                i = int(frac)
                w = self.warp[i] + (self.warp[i + 1] - self.warp[i]) * (frac - i)
                t = day * DAY + w * DAY - LOCAL_OFFSET
            created = max(int(t), self.last_created + 1)
            created = min(created, self.now - 1)
            self.last_created = created
            out.append(created)
        return out

    def _share(self, stage: str, limit: int) -> int:
        mu, sigma = self.paces[stage]
        return int(limit * math.exp(self.rng.gauss(mu, sigma)))

    # Chunks ---------------------------------------------------------------------------------------

    def plans(self) -> Iterator[Plan]:
        for index, start in enumerate(range(0, self.n, self.size)):
            end = min(self.n, start + self.size)
            created = self._created(start, end)
            phones, repeats = [], []
            for oid, at in enumerate(created, start + 1):
                phone, repeat = self._phone(oid, at)
                phones.append(phone)
                repeats.append(repeat)
            yield Plan(index, start + 1, created, phones, repeats)

    def _phone(self, oid: int, at: int) -> tuple[str, bool]:
        """A regular caller (a repeat if they called in the 30 days before), or someone calling once."""
        rng = self.plan_rng
        if rng.random() < 0.2:
            phone = rng.choice(self.regulars)
            before = self.called.get(phone)
            self.called[phone] = at
            return phone, before is not None and at - 30 * DAY <= before < at
        return f"15{(oid * 7919) % 10**9:09d}", False

    def chunk(self, plan: Plan) -> Chunk:
        self.rng = random.Random(self.seed * 1_000_003 + plan.index)
        reserved = plan.index * self.size
        self.event_id = reserved * EVENT_IDS_PER_ORDER + 1
        self.assignment_id = self.dispatch_fact_id = reserved * ROW_IDS_PER_ORDER + 1
        self.counts = dict.fromkeys(("open", "overdue_marked", "warned_marked", "reworked", "answered",
                                     "self_handled", "cancelled", "returned", "repeat"), 0)
        rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
        for i, (created, phone, repeat) in enumerate(zip(plan.created, plan.phones, plan.repeats, strict=True)):
            self._order(plan.first + i, created, phone, repeat, rows)
        orders = len(plan.created)
        if (self.event_id > (reserved + self.size) * EVENT_IDS_PER_ORDER + 1
                or self.assignment_id > (reserved + self.size) * ROW_IDS_PER_ORDER + 1
                or self.dispatch_fact_id > (reserved + self.size) * ROW_IDS_PER_ORDER + 1):
            raise RuntimeError(f"chunk {plan.index} ran out of its id range")
        return Chunk(rows, orders, self.counts)

    def _order(self, oid: int, created: int, phone: str, repeat: bool, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        rng, county = self.rng, self.county
        place = rng.choices(county.places, cum_weights=county.place_weights)[0]
        lon, lat = rng.choice(place.points)
        channel = rng.choices(self.channels, cum_weights=self.channel_weights)[0]
        if channel in ("grid", "sensor") or rng.random() < 0.15:
            kind = rng.choice(county.city_kinds)
        else:
            kind = rng.choices(county.hotline_kinds, cum_weights=county.hotline_weights)[0]
        urgency = rng.choices(self.urgencies, cum_weights=self.urgency_weights)[0]
        lead_id, lead_code = kind.lead[place.town]
        moves_left = rng.randint(0, 7) if rng.random() < 0.008 else None  # stuck somewhere, still open
        o = _Order(self, kind.limits[urgency], created, moves_left)
        registrar = (rng.choice(county.agents) if channel == "hotline" else place.worker if channel == "grid"
                     else OUTSIDE if channel == "open311" else rng.choice(county.dispatchers[place.town][1:])
                     if channel == "referral" else CITIZEN)
        o.register(registrar, channel)
        with contextlib.suppress(_Stop):
            self._story(o, place, kind, channel, lead_id, lead_code)
        o.sweep(self.now)
        self._rows(oid, created, o, place, kind, channel, urgency, lead_id, lon, lat, registrar, phone, repeat, rows)

    def _story(self, o: _Order, place: Place, kind: Kind, channel: str, lead_id: int, lead_code: str) -> None:
        rng, county = self.rng, self.county
        centre = county.dispatchers[place.town]
        dispatcher = centre[0] if rng.random() < 0.7 else rng.choice(centre[1:])
        if channel == "grid" and rng.random() < 0.4:
            o.move(rng.expovariate(1 / 1800), "self_handle", "closed", place.worker,
                   {"report": "已现场处置完毕", "photos": []})
            self.counts["self_handled"] += 1
            return
        if channel == "hotline" and kind.code.startswith("12345.ZX.") and rng.random() < 0.6:
            o.move(rng.uniform(60, 600), "answer", "closed", rng.choice(county.agents),
                   {"answer": "已按政策当场答复来电人"})
            self.counts["answered"] += 1
            return
        triage = rng.uniform(3, 30) if (auto := rng.random() < 0.15) else rng.lognormvariate(math.log(1200), 1.0)
        if rng.random() < 0.015:
            o.move(triage, "cancel", "cancelled", dispatcher, reason="重复或无效诉求")
            self.counts["cancelled"] += 1
            return
        assists = [rng.choice(county.county_departments)] if rng.random() < 0.05 else []
        assists = [d for d in assists if d != lead_id]
        codes = county.department_codes
        if auto:
            o.move(triage, "dispatch", "dispatched", AUTO, {"department": lead_code, "assisting": [], "automatic": True,
                                                            "category": kind.code, "confidence": 0.93},
                   effect=o.assign(lead_id, []))
        else:
            o.move(triage, "dispatch", "dispatched", dispatcher,
                   {"department": lead_code, "assisting": [codes[d] for d in assists]},
                   effect=o.assign(lead_id, assists))
        handler = county.handlers.get(lead_id, Person(None, "处置员", lead_id))
        if rng.random() < 0.06:  # 退回: not this department's matter
            self.counts["returned"] += 1
            o.move(self._share("sign", self.limits_of(o, "sign")), "return", "returned", handler,
                   {"department": lead_code}, reason="不属于本部门职责", effect=o.returned)
            if rng.random() < 0.8:
                o.move(rng.uniform(600, 7200), "accept_return", "registered", dispatcher, effect=o.withdrawn)
                if rng.random() < 0.1:
                    o.move(rng.uniform(600, 7200), "cancel", "cancelled", dispatcher, reason="不属于受理范围")
                    self.counts["cancelled"] += 1
                    return
                lead_id = rng.choice([d for d in county.county_departments if d != lead_id])
                lead_code, handler = codes[lead_id], county.handlers[lead_id]
                o.move(rng.uniform(300, 3600), "dispatch", "dispatched", dispatcher,
                       {"department": lead_code, "assisting": []}, effect=o.assign(lead_id, []))
            else:
                o.move(rng.uniform(600, 7200), "reject_return", "dispatched", dispatcher, {"department": lead_code},
                       reason="属于本部门职责，请签收办理", effect=o.return_rejected)
        o.move(self._share("sign", self.limits_of(o, "sign")), "sign", "accepted", handler, {"department": lead_code},
               effect=o.signed_by(handler))
        while True:  # handling, verification, callback; again after a rework
            self._handle(o, handler, dispatcher)
            verifier = place.worker if rng.random() < 0.7 else dispatcher
            gap = self._share("verify", o.limits["verify"])
            if rng.random() < 0.07:
                o.move(gap, "verify_fail", "accepted", verifier, reason="现场核查未整改到位", rework=True)
                continue
            o.move(gap, "verify_pass", "verified", verifier)
            gap = self._share("callback", o.limits["callback"])
            if rng.random() < 0.05:
                o.move(gap, "close", "closed", dispatcher, reason="来电人电话无法接通，按规定办结")
                return
            rating = rng.choices(self.ratings, cum_weights=self.rating_weights)[0] if not o.reworks else \
                rng.choice((3, 4, 4, 5, 5))
            agent = rng.choice(county.agents)

            def rated(at: int, r: int = rating) -> None:
                o.rating, o.awaiting_review = r, r < 3  # dissatisfied: the centre reviews it

            if rating >= 3:
                o.move(gap, "callback", "closed", agent, {"rating": rating, "comment": ""}, effect=rated)
                return
            o.move(gap, "callback", "verified", agent, {"rating": rating, "comment": "问题没有解决"}, effect=rated)

            def reviewed(at: int) -> None:
                o.awaiting_review = False

            if rng.random() < 0.6:
                o.move(rng.uniform(3600, 2 * DAY), "close_dissatisfied", "closed", dispatcher,
                       reason="已按政策办理，诉求超出政策范围", effect=reviewed)
                return
            o.move(rng.uniform(3600, 2 * DAY), "reopen", "accepted", dispatcher, reason="群众不满意，重新办理",
                   rework=True, effect=reviewed)

    @staticmethod
    def limits_of(o: _Order, stage: str) -> int:
        return o.limits[stage]

    def _handle(self, o: _Order, handler: Person, dispatcher: Person) -> None:
        """From accepted to handled: sometimes an extension, sometimes a suspension on the way."""
        rng = self.rng
        assert o.handle_due is not None
        if rng.random() < 0.02:
            o.move(rng.uniform(3600, DAY), "request_extension", "accepted", handler, reason="需协调多部门，申请延期",
                   public=False, effect=lambda at: setattr(o, "extension_pending", True))

            def granted(at: int) -> None:
                o.extension_pending = False

            new_due = max(o.handle_due, o.at) + o.limits["handle"]
            o.move(rng.uniform(1800, 4 * 3600), "approve_extension", "accepted", dispatcher, {"due_at": _iso(new_due)},
                   new_handle_due=new_due, effect=granted)
        if rng.random() < 0.01:
            o.move(rng.uniform(3600, DAY), "suspend", "suspended", dispatcher, reason="待天气好转后施工", clock="stop")
            o.move(rng.uniform(DAY, 10 * DAY), "resume", "accepted", dispatcher, clock="start")
        assert o.handle_due is not None
        left = max(o.handle_due - o.at, 3600)
        o.move(self._share("handle", left), "report", "handled", handler, {"report": "已处置完毕", "photos": []},
               effect=o.reported)

    # Rows -----------------------------------------------------------------------------------------

    def _rows(self, oid: int, created: int, o: _Order, place: Place, kind: Kind, channel: str, urgency: str,
              suggested: int, lon: float, lat: float, registrar: Person, phone: str, repeat: bool,
              rows: dict[str, list[tuple[Any, ...]]]) -> None:
        from zhili.assessment.facts import Event, derive

        county, counts = self.county, self.counts
        dt = _datetime
        when = dt(created)
        text = f"{place.village_name}附近{kind.name.split('·')[-1]}问题，请尽快处理"
        address = f"{county.town_names[place.town]}{place.village_name}"
        events, rows_events = [], rows["order_events"]
        for at, action, before, to, actor, reason, data, rework, public in o.events:
            eid = self.event_id
            self.event_id += 1
            at_dt = dt(at)
            events.append(Event(eid, at_dt, action, to, actor.id, rework, data))
            rows_events.append((eid, oid, at_dt, actor.id, actor.name, actor.department_id, action, before, to, reason,
                                _json(data), rework, public))
        facts = derive(events)
        lead = facts.lead
        ids = county.department_ids
        rows["order_facts"].append((
            oid, facts.last_event_id, place.village, place.town, place.grid_id, kind.id, facts.channel,
            facts.registered_at, facts.registrar_id, ids.get(lead.department) if lead else None,
            lead.dispatcher_id if lead else None, facts.handler_id,
            facts.dispatches[0].at if facts.dispatches else None, facts.handled_at, facts.handle_due,
            facts.closed_at, facts.reworks, facts.cancelled, facts.merged, facts.rating, facts.answered, repeat))
        for d in facts.dispatches:
            if d.department in ids:
                rows["dispatch_facts"].append((
                    self.dispatch_fact_id, oid, ids[d.department], place.village, place.town, d.dispatcher_id, d.at,
                    d.sign_due, d.signed_at, d.signer_id, d.redirected, d.automatic))
                self.dispatch_fact_id += 1
        for department_id, role, state, dispatched, signed, signer in o.assignments:
            rows["assignments"].append((self.assignment_id, oid, department_id, role, state, dt(dispatched),
                                        dt(signed) if signed is not None else None, signer))
            self.assignment_id += 1
        opt = lambda s: dt(s) if s is not None else None  # noqa: E731
        code = f"GD{when:%Y%m%d}{oid:06d}"
        rows["work_orders"].append((
            oid, code, o.status, o.version, urgency, kind.id, place.town_id, place.town, place.village, place.grid_id,
            channel, text[:120], text, address, lon, lat, suggested, o.extension_pending, o.awaiting_review,
            channel == "grid", o.reworks, o.rating, None, o.stage, opt(o.stage_started), opt(o.due),
            opt(o.handle_due), float(o.clock_left) if o.clock_left is not None else None, opt(o.overdue),
            opt(o.warned), opt(o.closed), registrar.id, when, dt(o.last)))
        rows["appeals"].append((
            oid, f"BK{oid:014d}", channel, self.rng.choice("王陈张李吴周徐朱") + self.rng.choice(("先生", "女士")),
            phone, "", self.rng.random() < 0.02, text, address, lon, lat, place.village, kind.id, oid, registrar.id,
            "", None, "{}", "", when, when))
        counts["open"] += o.status in OPEN
        counts["overdue_marked"] += any(e[1] == "overdue" for e in o.events)
        counts["warned_marked"] += any(e[1] == "warn" for e in o.events)
        counts["reworked"] += o.reworks > 0
        counts["repeat"] += repeat


def _datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# Loading ---------------------------------------------------------------------------------------


def _pg_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_session(conn: Any) -> bool:
    """A loading session: foreign-key triggers off (the rows are made from ids the seeded tables gave;
    needs a superuser, else they stay on), no wait for the WAL flush. Returns whether triggers are off."""
    import psycopg

    with conn.cursor() as cur:
        try:
            cur.execute("SET session_replication_role = replica")
            off = True
        except psycopg.Error:
            conn.rollback()
            off = False
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET maintenance_work_mem = '1GB'")
    conn.commit()
    return off


@lru_cache
def _pg_types(table: str) -> list[str]:
    """The columns' PostgreSQL types, for binary COPY (JSON goes over as its text)."""
    from sqlalchemy import Boolean, Float, Integer

    from zhili.db import Base
    from zhili.models.base import UTCDateTime

    types = []
    for name in COLUMNS[table]:
        kind = Base.metadata.tables[table].c[name].type
        types.append("timestamptz" if isinstance(kind, UTCDateTime) else "bool" if isinstance(kind, Boolean)
                     else "int4" if isinstance(kind, Integer) else "float8" if isinstance(kind, Float) else "text")
    return types


def _copy(conn: Any, chunk: Chunk) -> None:
    with conn.cursor() as cur:
        for table, columns in COLUMNS.items():
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_pg_types(table))
                for row in chunk.rows[table]:
                    copy.write_row(row)
    conn.commit()


# A loading worker's generator and connection (PostgreSQL): set before the pool forks, opened in the worker.
_WORKER: dict[str, Any] = {}


def _pg_chunk(plan: Plan) -> tuple[dict[str, int], dict[str, int], float, float, bool]:
    import psycopg

    if "conn" not in _WORKER:
        _WORKER["conn"] = psycopg.connect(_WORKER["dsn"])
        _WORKER["triggers_off"] = _pg_session(_WORKER["conn"])
    t0 = time.perf_counter()
    chunk = _WORKER["generator"].chunk(plan)
    t1 = time.perf_counter()
    _copy(_WORKER["conn"], chunk)
    return ({t: len(r) for t, r in chunk.rows.items()}, chunk.counts, t1 - t0, time.perf_counter() - t1,
            _WORKER["triggers_off"])


def _load_postgres(url: str, generator: Generator, totals: Callable[..., None]) -> dict[str, Any]:
    """COPY from one worker process per core, each generating its chunks; the non-unique indexes are
    dropped first and built again afterwards; then VACUUM ANALYZE."""
    import multiprocessing
    import os

    import psycopg

    from zhili.db import get_engine

    seconds: dict[str, float] = {}
    conn = psycopg.connect(_pg_dsn(url))
    _pg_session(conn)
    with conn.cursor() as cur:
        cur.execute("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            ORDER BY i.tablename, i.indexname""", (list(COLUMNS),))
        indexes = cur.fetchall()
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    conn.commit()
    for table in COLUMNS:
        _pg_types(table)  # read the models once, before the fork
    get_engine().dispose()  # no pooled connection crosses the fork
    _WORKER.update(generator=generator, dsn=_pg_dsn(url))
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    triggers_off = True
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for rows, counts, generating, copying, off in pool.imap(_pg_chunk, generator.plans()):
            totals(rows, counts, generating, copying)
            triggers_off = triggers_off and off
    _WORKER.clear()
    seconds["generate_and_copy"] = time.perf_counter() - started
    started = time.perf_counter()
    with conn.cursor() as cur:
        for _name, definition in indexes:
            cur.execute(definition)
        for table in SERIAL_TABLES:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    seconds["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.autocommit = True
    with conn.cursor() as cur:
        for table in COLUMNS:
            cur.execute(f"VACUUM (ANALYZE) {table}")
        cur.execute("ANALYZE")
    seconds["vacuum_analyze"] = time.perf_counter() - started
    conn.close()
    return {"seconds": seconds, "workers": workers, "foreign_key_triggers_off_while_loading": triggers_off,
            "indexes_rebuilt": [name for name, _d in indexes]}


def _load_sqlite(generator: Generator, totals: Callable[..., None]) -> dict[str, Any]:
    """executemany per chunk, one transaction each, in this process; ANALYZE at the end."""
    from zhili.db import get_engine

    raw = get_engine().raw_connection()
    conn: Any = raw.driver_connection
    seconds = {"generate_and_insert": 0.0}
    started = time.perf_counter()
    for plan in generator.plans():
        t0 = time.perf_counter()
        chunk = generator.chunk(plan)
        t1 = time.perf_counter()
        cur = conn.cursor()
        for table, columns in COLUMNS.items():
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            cur.executemany(sql, (tuple(_sqlite_value(v) for v in row) for row in chunk.rows[table]))
        conn.commit()
        cur.close()
        totals({t: len(r) for t, r in chunk.rows.items()}, chunk.counts, t1 - t0, time.perf_counter() - t1)
    seconds["generate_and_insert"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("ANALYZE")
    conn.commit()
    raw.close()
    seconds["analyze"] = time.perf_counter() - started
    return {"seconds": seconds, "workers": 1, "foreign_key_triggers_off_while_loading": False}


def _sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores a UTCDateTime on SQLite: UTC, without the zone, with microseconds."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def load(ctx: BenchContext, county: County, n: int, now: int) -> dict[str, Any]:
    """Generate and load N orders in chunks; returns the rows written and the seconds taken."""
    from sqlalchemy import func, insert, select

    from zhili.assessment.facts import MARK
    from zhili.db import session_scope
    from zhili.models import OrderEvent, ProjectionMark

    generator = Generator(county, n, now)
    rows = dict.fromkeys(COLUMNS, 0)
    counts: dict[str, int] = {}
    busy = {"generate": 0.0, "write": 0.0}

    def totals(chunk_rows: dict[str, int], chunk_counts: dict[str, int], generating: float, writing: float) -> None:
        for table, k in chunk_rows.items():
            rows[table] += k
        for key, k in chunk_counts.items():
            counts[key] = counts.get(key, 0) + k
        busy["generate"] += generating
        busy["write"] += writing

    started = time.perf_counter()
    if ctx.backend == "postgresql":
        loaded = _load_postgres(ctx.database_url, generator, totals)
    else:
        loaded = _load_sqlite(generator, totals)
    with session_scope() as session:  # the projection has seen every event: catch_up starts from here
        newest = session.scalar(select(func.max(OrderEvent.at)))
        session.execute(insert(ProjectionMark), [{"name": MARK, "seen_at": newest}])
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "events_per_order": round(rows["order_events"] / n, 2),
        "generated": {
            **{f"{key}_share": round(k / n, 4) for key, k in sorted(counts.items())},
            "first": _datetime(generator.start).isoformat(), "now": _datetime(now).isoformat(),
        },
        "load_seconds": round(seconds, 1),
        "load_split_seconds": {k: round(v, 1) for k, v in loaded.pop("seconds").items()},
        "load_busy_seconds": {k: round(v, 1) for k, v in busy.items()},  # summed over the workers
        **loaded,
        "chunk_orders": CHUNK,
    }


# Measuring -------------------------------------------------------------------------------------


def measure(ctx: BenchContext) -> dict[str, Any]:
    from sqlalchemy import select, text

    from zhili.assessment.ledger import LOCAL, compute, month, parse_period
    from zhili.auth.service import subject_for_staff
    from zhili.command.service import area, area_view, heat_layer, orders_layer, summary
    from zhili.db import get_sessionmaker
    from zhili.kit.time import now as clock_now
    from zhili.models import Grid, Region, Staff

    maker = get_sessionmaker()
    with maker() as session:
        leader = session.scalars(select(Staff).where(Staff.username == "leader")).one()
        subject = subject_for_staff(leader)
        village = session.scalars(select(Region).where(Region.level == "village", Region.code.startswith(TOWN[:9]))
                                  .order_by(Region.code)).first()
        assert village is not None
        grid = session.scalars(select(Grid).where(Grid.region_id == village.id).order_by(Grid.code)).first()
        assert grid is not None
        town = session.scalars(select(Region).where(Region.code == TOWN)).one()
        viewport = [float(v or 0) for v in (town.min_lon, town.min_lat, town.max_lon, town.max_lat)]
        codes = {"county": subject.region_code, "town": TOWN, "village": village.code, "grid": grid.code}

    def request(fn: Callable[..., Any], code: str, *args: Any) -> Callable[[], Any]:
        def run() -> Any:
            with maker() as s:
                return fn(s, subject, area(s, subject, code), *args)
        return run

    map_queries: dict[str, Callable[[], Any]] = {
        **{f"summary_{level}": request(summary, code) for level, code in codes.items()},
        "area_view_county": request(area_view, codes["county"]),
        "area_view_town": request(area_view, codes["town"]),
        "orders_layer_town_viewport": request(orders_layer, TOWN, viewport, ZOOM),
        "heat_layer_town_viewport_30d": request(heat_layer, TOWN, viewport, ZOOM, HEAT_DAYS),
    }
    at = clock_now()
    local = at.astimezone(LOCAL).date()
    last_month = month(local.replace(day=1) - timedelta(days=1))
    last_year = parse_period(str(local.year - 1))

    def ledger(dimension: str, period: Any) -> Callable[[], Any]:
        def run() -> Any:
            with maker() as s:
                return compute(s, None, dimension, period, at)  # type: ignore[arg-type]
        return run

    ledger_queries = {
        "ledger_department_month": ledger("department", last_month),
        "ledger_town_month": ledger("town", last_month),
        "ledger_department_year": ledger("department", last_year),
        "ledger_town_year": ledger("town", last_year),
    }

    def floor() -> None:
        with maker() as s:
            s.execute(text("SELECT count(*) FROM order_events")).scalar()

    floor_ms = timings_ms(floor, FLOOR_REPEAT, warmup=1)
    queries: dict[str, dict[str, float]] = {}
    for name, fn in map_queries.items():
        queries[name] = timings_ms(fn, MAP_REPEAT)
    for name, fn in ledger_queries.items():
        queries[name] = timings_ms(fn, LEDGER_REPEAT, warmup=1)
    for figures in queries.values():
        figures["p50_x_floor"] = round(figures["p50_ms"] / floor_ms["p50_ms"], 3)
        figures["p95_x_floor"] = round(figures["p95_ms"] / floor_ms["p50_ms"], 3)
    with maker() as s:
        sizes = {"open_orders_in_town_viewport": orders_layer(s, subject, area(s, subject, TOWN), viewport,
                                                              ZOOM)["total"],
                 "ledger_rows_department_year": len(compute(s, None, "department", last_year, at)),
                 "summary_county_open": summary(s, subject, area(s, subject, codes["county"]))["open"]}
    worst_map = max(queries[k]["p95_ms"] for k in map_queries)
    worst_year = max(queries[k]["p95_ms"] for k in ("ledger_department_year", "ledger_town_year"))
    return {
        "areas": codes, "viewport": viewport, "periods": {"month": last_month.key, "year": last_year.key},
        "queries": queries,
        "floor_count_order_events": floor_ms,
        "result_sizes": sizes,
        "targets": {
            "map_p95_ms": TARGET_MAP_P95_MS, "year_ledger_p95_ms": TARGET_YEAR_LEDGER_MS,
            "worst_map_p95_ms": worst_map, "worst_year_ledger_p95_ms": worst_year,
            "map_met": worst_map < TARGET_MAP_P95_MS, "year_ledger_met": worst_year < TARGET_YEAR_LEDGER_MS,
            "applies_to": "postgresql",
        },
    }


def _database_bytes(ctx: BenchContext) -> int | None:
    from pathlib import Path

    from sqlalchemy import text

    from zhili.db import get_engine

    if ctx.backend == "postgresql":
        with get_engine().connect() as conn:
            return int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    path = Path(ctx.database_url.split("///", 1)[-1])
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


@benchmark("dashboard")
def dashboard(ctx: BenchContext) -> dict[str, Any]:
    """Command map and assessment ledger over N generated orders (five years) vs. a count(*) of the events."""
    n = ctx.orders or ctx.size or DEFAULT_ORDERS
    started = time.perf_counter()
    seed_county()
    county = read_county(random.Random(SEED))
    seed_seconds = time.perf_counter() - started
    now = int(time.time())
    loaded = load(ctx, county, n, now)
    figures = measure(ctx)
    return {"orders": n, "events": loaded["rows"]["order_events"], "seed_seconds": round(seed_seconds, 1),
            **loaded, "database_bytes": _database_bytes(ctx), **figures}
