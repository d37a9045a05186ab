"""Smart dispatch inside the platform: the classifier's versions, its proposals when appeals are filed,
and what the dispatchers decided (the next retrain's lessons).

- Versions: `retrain` learns from every `ClassifierExample` (the seed corpus, then each dispatcher's
  decision) and stores the model as a new active `ClassifierModel`. Every process serves the active
  version (`serving`), and notices a newer one within seconds: a retrain never stops the server.
- Proposals: `propose` classifies new orders filed without a category; the work-order service dispatches
  those whose first proposal is sure enough (settings.auto_dispatch_threshold) by the responsibility
  rules, and leaves the others to the dispatcher, who sees the top three.
- Decisions: `record_decision` notes the category an order was dispatched under; a correction (another
  category than the first proposal) and a confirmation both become examples.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhili.access import readable
from zhili.auth.subject import Subject
from zhili.category.service import suggested_lead
from zhili.config import get_settings
from zhili.dispatch.classifier import TextModel, train
from zhili.dispatch.duplicates import Candidate, find_duplicates
from zhili.dispatch.places import Entry, Gazetteer
from zhili.jurisdiction import repository as jrepo
from zhili.kit import geo
from zhili.kit.codes import subtree_prefix
from zhili.kit.recent import Recent
from zhili.kit.time import now
from zhili.models import (
    Appeal,
    Category,
    CategoryKind,
    ClassifierExample,
    ClassifierModel,
    ExampleSource,
    Grid,
    Proposal,
    Region,
    WorkOrder,
)

log = logging.getLogger(__name__)

TOP = 3  # the choices a dispatcher sees
MIN_LABELS = 2  # a classifier needs at least two categories to tell apart

# Serving -----------------------------------------------------------------------------------------

_active: Recent[int | None] = Recent("classifier version", watches=(ClassifierModel,))
_loaded: dict[int, TextModel] = {}
_loading = threading.Lock()


def serving(session: Session) -> tuple[int, TextModel] | None:
    """The active version and its model, loaded once per process and version."""
    version = _active.get("active", lambda: session.scalar(
        select(ClassifierModel.version).where(ClassifierModel.active)))
    if version is None:
        return None
    model = _loaded.get(version)
    if model is None:
        with _loading:
            model = _loaded.get(version)
            if model is None:
                data = session.scalar(select(ClassifierModel.data).where(ClassifierModel.version == version))
                if data is None:  # replaced meanwhile: the next call sees the new one
                    return None
                model = TextModel.from_bytes(data)
                _loaded.clear()  # only the serving version stays in memory
                _loaded[version] = model
    return version, model


# Training ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retrained:
    version: int
    examples: int
    corrections: int
    seconds: float


def retrain(session_factory: Any) -> Retrained | None:
    """Train on every example under an active category leaf and make the result the active version.
    None when there is too little to learn from. Training runs outside any transaction; two processes
    retraining at once store one version (the other's insert fails on the version number)."""
    with session_factory() as session:
        leaves = set(session.scalars(select(Category.code).where(Category.active, Category.kind != CategoryKind.group)))
        rows = session.execute(select(ClassifierExample.id, ClassifierExample.text, ClassifierExample.category_code,
                                      ClassifierExample.segmented, ClassifierExample.source)
                               .order_by(ClassifierExample.id)).all()
        newest = session.scalar(select(func.max(ClassifierModel.version))) or 0
    rows = [r for r in rows if r.category_code in leaves]
    if len({r.category_code for r in rows}) < MIN_LABELS:
        return None
    started = time.perf_counter()
    model = train([r.text for r in rows], [r.category_code for r in rows], segmented=[r.segmented for r in rows])
    seconds = time.perf_counter() - started
    corrections = sum(r.source == ExampleSource.correction for r in rows)
    try:
        with session_factory() as session, session.begin():
            session.execute(update(ClassifierModel).where(ClassifierModel.active).values(active=False))
            session.add(ClassifierModel(version=newest + 1, active=True, training_seconds=round(seconds, 2),
                                        examples=len(rows), corrections=corrections,
                                        last_example_id=rows[-1].id, labels=model.labels, data=model.to_bytes()))
    except IntegrityError:
        log.info("another process stored classifier version %s first", newest + 1)
        return None
    _active.clear()
    log.info("classifier version %s trained on %s examples in %.1f s", newest + 1, len(rows), seconds)
    return Retrained(version=newest + 1, examples=len(rows), corrections=corrections, seconds=round(seconds, 2))


def retrain_due(session: Session, hours: float | None = None) -> bool:
    """Whether the scheduled retrain should run: never trained, or the active version is older than
    `hours` and examples came in since."""
    hours = get_settings().classifier_retrain_hours if hours is None else hours
    latest = session.execute(select(ClassifierModel.trained_at, ClassifierModel.last_example_id)
                             .order_by(ClassifierModel.version.desc()).limit(1)).first()
    newest_example = session.scalar(select(func.max(ClassifierExample.id))) or 0
    if latest is None:
        return newest_example > 0
    return latest.trained_at <= now() - timedelta(hours=hours) and newest_example > latest.last_example_id


def scheduled_retrain(session_factory: Any) -> dict[str, int]:
    """The background round's part: retrain when due."""
    with session_factory() as session:
        due = retrain_due(session)
    if not due:
        return {}
    done = retrain(session_factory)
    return {"classifier_version": done.version} if done else {}


# Proposals ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposed:
    proposal: Proposal
    category: Category  # the first choice
    sure: bool  # at least the auto-dispatch threshold


def propose(session: Session, orders: list[WorkOrder]) -> list[Proposed | None]:
    """The classifier's top three for each order (its text), stored as a `Proposal`; None where no
    model serves or none of its labels is an active leaf any more."""
    found = serving(session) if orders else None
    if found is None:
        return [None] * len(orders)
    version, model = found
    ranked = _top(session, model, [_text(o) for o in orders])
    threshold = get_settings().auto_dispatch_threshold
    out: list[Proposed | None] = []
    for order, kept in zip(orders, ranked, strict=True):
        if not kept:
            out.append(None)
            continue
        proposal = Proposal(work_order_id=order.id, model_version=version, top_code=kept[0][0].code,
                            confidence=round(kept[0][1], 4),
                            choices=[{"code": c.code, "name": c.name, "confidence": round(p, 4)} for c, p in kept])
        session.add(proposal)
        out.append(Proposed(proposal=proposal, category=kept[0][0], sure=kept[0][1] >= threshold))
    return out


def suggest(session: Session, text: str) -> list[dict[str, Any]]:
    """The top three for a text being typed (the hotline form), not stored."""
    found = serving(session)
    if found is None or not text.strip():
        return []
    _version, model = found
    (kept,) = _top(session, model, [text])
    return [{"code": c.code, "name": c.name, "confidence": round(p, 4)} for c, p in kept]


def _top(session: Session, model: TextModel, texts: list[str]) -> list[list[tuple[Category, float]]]:
    """The model's best TOP labels per text that are still active category leaves (a label retired
    since the training drops out, the next one moves up)."""
    ranked = model.top(texts, k=TOP + 2)
    codes = {code for choices in ranked for code, _p in choices}
    leaves = {c.code: c for c in session.scalars(select(Category).where(
        Category.code.in_(codes), Category.active, Category.kind != CategoryKind.group))}
    return [[(leaves[code], p) for code, p in choices if code in leaves][:TOP] for choices in ranked]


def _text(order: WorkOrder) -> str:
    title = order.title if order.title and not order.description.startswith(order.title) else ""
    return f"{title} {order.description}".strip()


def record_decision(session: Session, subject: Subject, order: WorkOrder) -> None:
    """The order was dispatched under its current category: note it on the proposal, and keep the
    text as an example for the next retrain (a correction when it is not the first proposal)."""
    if order.category is None:
        return
    proposal = session.get(Proposal, order.id)
    if proposal is None:
        return
    code = order.category.code
    proposal.decided_code, proposal.accepted = code, code == proposal.top_code
    proposal.decided_at, proposal.decided_by_id = now(), subject.id
    source = ExampleSource.confirmed if proposal.accepted else ExampleSource.correction
    # A re-dispatch (after a return) replaces the order's example: the last decision is the lesson.
    example = session.scalar(select(ClassifierExample).where(ClassifierExample.work_order_id == order.id,
                                                             ClassifierExample.source != ExampleSource.seed))
    if example is None:
        session.add(ClassifierExample(text=_text(order), category_code=code, source=source, work_order_id=order.id))
    else:
        example.category_code, example.source = code, source


# The admin's view --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    code: str
    name: str
    proposed: int  # orders whose first proposal was this category
    automatic: int  # of which dispatched without a dispatcher
    decided: int  # of which a dispatcher decided
    accepted: int  # of which the dispatcher kept it

    @property
    def rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


def acceptance(session: Session, subject: Subject) -> list[Acceptance]:
    """Per proposed category: how often the dispatchers accepted the first proposal, over the orders
    the subject may read."""
    decided = Proposal.accepted.is_not(None)
    mine = readable(subject, WorkOrder).with_only_columns(WorkOrder.id)
    rows = session.execute(
        select(Proposal.top_code, func.count(), func.sum(case((Proposal.automatic, 1), else_=0)),
               func.sum(case((decided, 1), else_=0)), func.sum(case((Proposal.accepted.is_(True), 1), else_=0)))
        .where(Proposal.work_order_id.in_(mine)).group_by(Proposal.top_code)).all()
    names = dict(session.execute(select(Category.code, Category.name)
                                 .where(Category.code.in_([r[0] for r in rows]))).all())
    out = [Acceptance(code=r[0], name=names.get(r[0]) or r[0], proposed=r[1], automatic=int(r[2] or 0),
                      decided=int(r[3] or 0), accepted=int(r[4] or 0)) for r in rows]
    return sorted(out, key=lambda a: (-a.proposed, a.code))


# Repeat callers ----------------------------------------------------------------------------------

REPEAT_DAYS = 30  # the period a repeat caller is counted over
REPEAT_MIN = 3  # appeals from one phone (or about one address) in the period that make a repeat caller


def repeat_counts(session: Session, subject: Subject, phones: list[str], days: int = REPEAT_DAYS) -> dict[str, int]:
    """How many appeals each phone filed in the last `days` days, among those the subject may read."""
    phones = [p for p in phones if p]
    if not phones:
        return {}
    since = now() - timedelta(days=days)
    rows = session.execute(readable(subject, Appeal).with_only_columns(Appeal.caller_phone, func.count())
                           .where(Appeal.caller_phone.in_(phones), Appeal.created_at >= since)
                           .group_by(Appeal.caller_phone)).all()
    return dict(rows)


@dataclass(frozen=True)
class RepeatCaller:
    key: str  # the phone, or the address
    by: str  # "phone" | "address"
    appeals: int
    orders: int
    first_at: datetime
    last_at: datetime
    last_text: str
    last_order_id: int


def repeat_callers(session: Session, subject: Subject, days: int = REPEAT_DAYS,
                   at_least: int = REPEAT_MIN, limit: int = 200) -> list[RepeatCaller]:
    """Phones and addresses that appealed at least `at_least` times in the last `days` days, most first
    (the report; the seeds cleaned repeated 110 calls the same way)."""
    since = now() - timedelta(days=days)
    out: list[RepeatCaller] = []
    for by, column in (("phone", Appeal.caller_phone), ("address", Appeal.address)):
        grouped = (readable(subject, Appeal)
                   .with_only_columns(column, func.count(), func.count(func.distinct(Appeal.work_order_id)),
                                      func.min(Appeal.created_at), func.max(Appeal.created_at), func.max(Appeal.id))
                   .where(column != "", Appeal.created_at >= since)
                   .group_by(column).having(func.count() >= at_least)
                   .order_by(func.count().desc()).limit(limit))
        rows = session.execute(grouped).all()
        latest = {a.id: a for a in session.scalars(select(Appeal).where(Appeal.id.in_([r[5] for r in rows])))}
        out += [RepeatCaller(key=r[0], by=by, appeals=r[1], orders=r[2], first_at=r[3], last_at=r[4],
                             last_text=latest[r[5]].text, last_order_id=latest[r[5]].work_order_id) for r in rows]
    return sorted(out, key=lambda r: (-r.appeals, r.by, r.key))


# The dispatcher's panel --------------------------------------------------------------------------


def order_view(session: Session, subject: Subject, order: WorkOrder) -> dict[str, Any]:
    """What the order page shows beside the order: the proposal with each choice's department, and
    the callers who appealed repeatedly."""
    view: dict[str, Any] = {"repeat": {p: n for p, n in repeat_counts(
        session, subject, [a.caller_phone for a in order.appeals]).items() if n >= REPEAT_MIN},
        "repeat_days": REPEAT_DAYS}
    if order.status in ("registered", "returned") and order.merged_into_id is None:
        view["duplicates"] = duplicates(session, subject, order)
    proposal = session.get(Proposal, order.id)
    if proposal is None:
        return view
    place = jrepo.region_by_code(session, order.place_code)
    categories = {c.code: c for c in session.scalars(select(Category).where(
        Category.code.in_([c["code"] for c in proposal.choices])))}
    choices = []
    for choice in proposal.choices:
        category = categories.get(choice["code"])
        lead = suggested_lead(session, category, place) if category is not None and place is not None else None
        choices.append({**choice, "department": lead})
    place_found = dict(proposal.place)
    if order.status == "registered":
        place_found["unmatched"] = unmatched_places(session, order)
    view["proposal"] = {"choices": choices, "version": proposal.model_version, "automatic": proposal.automatic,
                        "accepted": proposal.accepted, "decided_code": proposal.decided_code,
                        "threshold": get_settings().auto_dispatch_threshold,
                        "place": place_found if place_found.get("text") or place_found.get("unmatched") else {}}
    return view


# Where it happened -------------------------------------------------------------------------------

_LEVELS = {"city": 0, "county": 1, "town": 2, "village": 3}
_gazetteers: Recent[Gazetteer] = Recent("gazetteer", watches=(Region, Grid), ttl=300.0)


def gazetteer(session: Session) -> Gazetteer:
    """The deployment's regions and grids as names to find in text (places and standard addresses join
    when the base data has them), kept per process."""
    return _gazetteers.get("all", lambda: _build_gazetteer(session))


def _build_gazetteer(session: Session) -> Gazetteer:
    entries = []
    for code, name, level, boundary in session.execute(select(Region.code, Region.name, Region.level,
                                                              Region.boundary)):
        point = _point(boundary)
        entries.append(Entry(name=name, kind="region", code=code, lon=point[0] if point else None,
                             lat=point[1] if point else None, level=_LEVELS.get(str(level), 0)))
    for code, name, boundary in session.execute(select(Grid.code, Grid.name, Grid.boundary)):
        point = _point(boundary)
        entries.append(Entry(name=name, kind="grid", code=code, lon=point[0] if point else None,
                             lat=point[1] if point else None, level=4))
    return Gazetteer(entries)


def _point(boundary: str | None) -> tuple[float, float] | None:
    if not boundary:
        return None
    inside = geo.loads(boundary).representative_point()
    return round(inside.x, 6), round(inside.y, 6)


def locate_place(session: Session, order: WorkOrder) -> dict[str, Any]:
    """Read where the matter is from the order's text; when the caller gave no map point and the place
    lies within the order's area, put the order there (its point, its grid, its community).
    Returns what was matched, for the dispatcher: {"text", "name", "kind", "code", "grid", "located"}
    ({} when nothing was found)."""
    match = gazetteer(session).locate(_place_text(order))
    if match is None:
        return {}
    entry = match.entry
    found: dict[str, Any] = {"text": match.text, "name": entry.name, "kind": entry.kind, "code": entry.code,
                             "grid": entry.code if entry.kind == "grid" else None, "located": False}
    inside = entry.code.startswith(subtree_prefix(order.place_code)) and entry.code != order.place_code
    if order.lon is None and inside and entry.lon is not None:
        order.lon, order.lat = entry.lon, entry.lat
        if entry.kind == "grid":
            grid = session.scalar(select(Grid).where(Grid.code == entry.code))
            if grid is not None:
                order.grid, order.grid_id, order.place_code = grid, grid.id, grid.code[:12]
        elif len(entry.code) == 12:
            order.place_code = entry.code
        found["located"] = True
    return found


def _place_text(order: WorkOrder) -> str:
    return f"{order.address} {_text(order)}"


def unmatched_places(session: Session, order: WorkOrder) -> list[str]:
    """Place-like phrases of the text the gazetteer does not know (shown to the dispatcher; an admin
    may add them as standard addresses or places)."""
    return gazetteer(session).unmatched(_place_text(order))[:3]


# Probable duplicates -----------------------------------------------------------------------------

DUPLICATE_DAYS = 7
OPEN_STATUSES = ("registered", "dispatched", "accepted", "returned", "suspended", "handled", "verified")
NEAR_DEGREES = 0.01  # a box of about a kilometre around the point, before the exact distance


def _candidate(order: WorkOrder) -> Candidate:
    first = order.appeals[0] if order.appeals else None
    return Candidate(id=order.id, text=_text(order), at=order.created_at, lon=order.lon, lat=order.lat,
                     grid_code=order.grid.code if order.grid else None,
                     place_code=order.place_code if len(order.place_code) == 12 else "",
                     phone=first.caller_phone if first else "", address=order.address)


def duplicates(session: Session, subject: Subject, order: WorkOrder, limit: int = 5) -> list[dict[str, Any]]:
    """Open orders the subject may read that are probably about the same problem as `order`."""
    window = timedelta(days=DUPLICATE_DAYS)
    near = [WorkOrder.place_code == order.place_code]
    if order.grid_id is not None:
        near.append(WorkOrder.grid_id == order.grid_id)
    if order.lon is not None and order.lat is not None:
        near.append(WorkOrder.lon.between(order.lon - NEAR_DEGREES, order.lon + NEAR_DEGREES)
                    & WorkOrder.lat.between(order.lat - NEAR_DEGREES, order.lat + NEAR_DEGREES))
    phones = [a.caller_phone for a in order.appeals if a.caller_phone]
    if phones:
        near.append(WorkOrder.id.in_(select(Appeal.work_order_id).where(Appeal.caller_phone.in_(phones))))
    rows = session.scalars(readable(subject, WorkOrder).where(
        WorkOrder.id != order.id, WorkOrder.status.in_(OPEN_STATUSES),
        WorkOrder.created_at.between(order.created_at - window, order.created_at + window), or_(*near))
        .order_by(WorkOrder.id.desc()).limit(200)).unique().all()
    found = find_duplicates(_candidate(order), tuple(_candidate(o) for o in rows), window=window, limit=limit)
    by_id = {o.id: o for o in rows}
    return [{"id": s.candidate.id, "code": by_id[s.candidate.id].code, "text": s.candidate.text,
             "score": s.score, "reasons": list(s.reasons)} for s in found]
