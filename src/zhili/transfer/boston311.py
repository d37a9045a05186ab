"""Boston 311 (2015) replayed onto the demo county 临溪县: a real city's year of requests, as the county's
own channels would have sent them.

The file (../shared/data/boston311/boston311_2015.csv.gz, Boston's open data) is read at run time and
never copied. `boston311_mapping.toml` next to this module is our own work: it maps each Boston TYPE
onto a catalogue leaf and a lead department, each Source onto a channel, each neighbourhood onto a demo
town, and Boston's coordinates affinely onto rectangles inside the towns (see the file's comments).

Three consumers:
- the intake benchmark posts `appeal_payload()` to POST /api/v1/appeals and `open311_form()` to the
  Open311 requests.json, in the file's arrival order (`cases()`);
- `import_file()` loads the year as history through `zhili.transfer.appeals.import_appeals`: rows that
  break a Boston rule (`problems()`) are reported and left out, the others are stored all-or-nothing;
- `replay()` files the cases as new appeals now, paced by their real arrival gaps (for a live demo).

Row numbers are 1-based data rows, as in zhili.transfer.files: the first row under the header is row 1.
"""

import csv
import gzip
import io
import math
import re
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from zhili.kit.i18n import _
from zhili.models import Channel, OrderStatus, Urgency

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from zhili.errors import ImportReport

MAPPING_FILE = Path(__file__).with_name("boston311_mapping.toml")
DATE_FORMAT = "%m/%d/%Y %I:%M:%S %p"  # 01/05/2015 12:40:41 PM, Boston wall-clock time
_DATE = re.compile(r"(\d\d)/(\d\d)/(\d{4}) (\d\d):(\d\d):(\d\d) ([AP]M)")
COLUMNS = ("CASE_ENQUIRY_ID", "OPEN_DT", "TARGET_DT", "CLOSED_DT", "CASE_STATUS", "CLOSURE_REASON", "CASE_TITLE",
           "SUBJECT", "REASON", "TYPE", "Location", "neighborhood", "LATITUDE", "LONGITUDE", "Source")
# Field limits of AppealCreate and of the import format.
TITLE_MAX, TEXT_MAX, ADDRESS_MAX, NOTE_MAX, OPEN311_DESCRIPTION_MAX = 120, 5000, 200, 5000, 4000
# The import source: a case id already imported from it is refused by zhili.transfer.appeals.
SOURCE = "boston311"
# "29 Hereford St  Boston  MA  02115" → "29 Hereford St": Boston writes the town, state and zip after
# runs of two spaces.
_TOWN_STATE_ZIP = re.compile(r"\s{2,}[A-Za-z.'/-]+(?: [A-Za-z.'/-]+)*\s{2,}MA(?:\s+\d{5})?\s*$")
_INTERSECTION = re.compile(r"^INTERSECTION of\s+", re.IGNORECASE)

Box = tuple[float, float, float, float]  # west, south, east, north


# Mapping ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where one Boston TYPE lands in the county."""

    zh: str
    category_code: str
    department_code: str | None
    urgency: Urgency = Urgency.normal
    # Service attribute values an Open311 POST sends (required ones must be given).
    attributes: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Frame:
    """An affine map of a box in Boston onto a box in the county, clamped to the target box so that a
    point outside the source box still lands in (the edge of) the target."""

    source: Box
    target: Box

    def project(self, lon: float, lat: float) -> tuple[float, float]:
        sw, ss, se, sn = self.source
        tw, ts, te, tn = self.target
        x = tw + (lon - sw) / (se - sw) * (te - tw)
        y = ts + (lat - ss) / (sn - ss) * (tn - ts)
        return min(max(x, tw), te), min(max(y, ts), tn)


@dataclass(frozen=True)
class Mapping:
    types: MappingProxyType[str, Target]
    subject_types: MappingProxyType[tuple[str, str], Target]
    subjects: MappingProxyType[str, Target]
    channels: MappingProxyType[str, Channel]
    neighborhoods: MappingProxyType[str, str]  # → town region code
    frames: MappingProxyType[str, Frame]  # town region code → its frame
    city: Frame
    citywide: frozenset[str]  # neighbourhoods whose points keep their place in the whole city
    default_region: str
    default_lat: float
    departments: MappingProxyType[str, str]  # short name → code, as written in the file
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def target(self, case: "Case") -> Target | None:
        return (self.subject_types.get((case.subject, case.type)) or self.types.get(case.type)
                or self.subjects.get(case.subject))

    def region_code(self, case: "Case") -> str:
        return self.neighborhoods.get(case.neighborhood, self.default_region)

    def point(self, case: "Case") -> tuple[float, float] | None:
        """The case's point in the county, rounded to 1e-6° (about 0.1 m), or None when Boston had none."""
        if case.lon is None or case.lat is None:
            return None
        region = self.region_code(case)
        frame = self.city if case.neighborhood in self.citywide else self.frames.get(region, self.city)
        lon, lat = frame.project(case.lon, case.lat)
        return round(lon, 6), round(lat, 6)

    def local(self, value: datetime) -> datetime:
        """A Boston wall-clock time as an aware datetime in the mapping's zone."""
        return value.replace(tzinfo=self.zone)


def _box(value: Any, where: str) -> Box:
    if not (isinstance(value, list) and len(value) == 4 and all(isinstance(v, int | float) for v in value)):
        raise ValueError(f"{where}: expected [west, south, east, north], got {value!r}")
    w, s, e, n = (float(v) for v in value)
    if not (w < e and s < n):
        raise ValueError(f"{where}: west < east and south < north, got {value!r}")
    return w, s, e, n


def _frame(value: Any, where: str) -> Frame:
    return Frame(_box(value.get("source"), f"{where}.source"), _box(value.get("target"), f"{where}.target"))


def load_mapping(path: Path = MAPPING_FILE) -> Mapping:
    """Read and check the mapping file; a mistake in it (an unknown department name, a bad urgency or
    channel, a malformed box) raises ValueError naming the entry."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    departments: dict[str, str] = dict(raw["departments"])

    def target(entry: dict[str, Any], where: str) -> Target:
        unknown = set(entry) - {"zh", "category", "department", "urgency", "attributes"}
        if unknown or not entry.get("zh") or not entry.get("category"):
            raise ValueError(f"{where}: needs zh and category (and optionally department, urgency, attributes), "
                             f"got {entry!r}")
        attributes = entry.get("attributes", {})
        if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
            raise ValueError(f"{where}: attributes must be a table of attribute code = value key")
        department = entry.get("department")
        if department is not None and department not in departments:
            raise ValueError(f"{where}: department {department!r} is not in [departments]")
        try:
            urgency = Urgency(entry.get("urgency", "normal"))
        except ValueError:
            raise ValueError(f"{where}: unknown urgency {entry.get('urgency')!r}") from None
        return Target(entry["zh"], entry["category"], departments[department] if department else None, urgency,
                      MappingProxyType(dict(attributes)))

    try:
        channels = {source: Channel(value) for source, value in raw["channels"].items()}
    except ValueError as exc:
        raise ValueError(f"[channels]: {exc}") from None
    points = raw["points"]
    return Mapping(
        types=MappingProxyType({t: target(e, f"types.{t!r}") for t, e in raw["types"].items()}),
        subject_types=MappingProxyType({(s, t): target(e, f"subject_types.{s!r}.{t!r}")
                                        for s, entries in raw.get("subject_types", {}).items()
                                        for t, e in entries.items()}),
        subjects=MappingProxyType({s: target(e, f"subjects.{s!r}") for s, e in raw["subjects"].items()}),
        channels=MappingProxyType(channels),
        neighborhoods=MappingProxyType(dict(raw["neighborhoods"])),
        frames=MappingProxyType({code: _frame(f, f"points.towns.{code}") for code, f in points["towns"].items()}),
        city=_frame(points["city"], "points.city"),
        citywide=frozenset(points.get("citywide", [])),
        default_region=raw["neighborhoods"][""],
        default_lat=float(points["default_lat"]),
        departments=MappingProxyType(departments),
        zone=ZoneInfo(raw.get("time", {}).get("zone", "Asia/Shanghai")),
    )


# Cases --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    """One row of the file, parsed. Dates are Boston wall-clock times (naive). A value that could not
    be parsed is None and named in `unreadable` (column → raw text), so a check can report it."""

    row: int
    case_id: str
    opened: datetime | None
    target: datetime | None
    closed: datetime | None
    status: str  # Open / Closed
    closure_reason: str
    title: str
    subject: str
    reason: str
    type: str
    source: str
    location: str
    neighborhood: str
    lat: float | None  # None: no point, or Boston's default geocode
    lon: float | None
    unreadable: tuple[tuple[str, str], ...] = ()


def _date(text: str, column: str, unreadable: list[tuple[str, str]]) -> datetime | None:
    """DATE_FORMAT, read by a regular expression: strptime would be two thirds of the file's reading time."""
    text = text.strip()
    if not text:
        return None
    if (m := _DATE.fullmatch(text)) is not None:
        month, day, year, hour, minute, second = (int(v) for v in m.groups()[:6])
        if 1 <= hour <= 12:
            try:
                return datetime(year, month, day, hour % 12 + (12 if m[7] == "PM" else 0), minute, second)
            except ValueError:
                pass
    unreadable.append((column, text))
    return None


def _coordinate(text: str, column: str, unreadable: list[tuple[str, str]]) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        unreadable.append((column, text))
        return None
    if not math.isfinite(value):
        unreadable.append((column, text))
        return None
    return value


def parse_row(row: int, record: dict[str, str], default_lat: float = 42.3594) -> Case:
    """One CSV record as a Case; never raises on bad values (they become None and `unreadable`)."""
    unreadable: list[tuple[str, str]] = []
    lat = _coordinate(record.get("LATITUDE", ""), "LATITUDE", unreadable)
    lon = _coordinate(record.get("LONGITUDE", ""), "LONGITUDE", unreadable)
    if lat is None or lon is None or abs(lat - default_lat) < 5e-5:
        lat = lon = None
    text = sys.intern  # the dozen repeated columns share their strings: about a third less memory
    return Case(
        row=row,
        case_id=record.get("CASE_ENQUIRY_ID", "").strip(),
        opened=_date(record.get("OPEN_DT", ""), "OPEN_DT", unreadable),
        target=_date(record.get("TARGET_DT", ""), "TARGET_DT", unreadable),
        closed=_date(record.get("CLOSED_DT", ""), "CLOSED_DT", unreadable),
        status=text(record.get("CASE_STATUS", "").strip()),
        closure_reason=" ".join(record.get("CLOSURE_REASON", "").split()),
        title=record.get("CASE_TITLE", "").strip(),
        subject=text(record.get("SUBJECT", "").strip()),
        reason=text(record.get("REASON", "").strip()),
        type=text(record.get("TYPE", "").strip()),
        source=text(record.get("Source", "").strip()),
        location=record.get("Location", "").strip(),
        neighborhood=text(record.get("neighborhood", "").strip()),
        lat=lat,
        lon=lon,
        unreadable=tuple(unreadable),
    )


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def cases(path: Path, *, default_lat: float = 42.3594) -> Iterator[Case]:
    """The file's cases in arrival order: by OPEN_DT, ties in file order, rows without a readable OPEN_DT
    last. The file itself is nearly but not quite in that order (156 steps back in 2015), so the whole
    file is read and sorted in memory: about 121,000 small parsed rows, some 100 MB, a few seconds.
    Raises ValueError if a column the mapping needs is missing from the header."""
    with _open(path) as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a Boston 311 export, missing columns {', '.join(missing)}")
        # Counted by record, not by line: a quoted field may span lines.
        parsed = [parse_row(row, record, default_lat) for row, record in enumerate(reader, start=1)]
    parsed.sort(key=lambda c: (c.opened is None, c.opened or datetime.min))
    yield from parsed


# Checks -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """One broken Boston rule on one row. `reason` is a stable key for counting; `problem` a sentence."""

    row: int
    case_id: str
    field: str  # the Boston column
    reason: str
    problem: str


REASONS = {  # reason key → what it means, for the report's headings
    "missing_id": "CASE_ENQUIRY_ID is empty",
    "duplicate_id": "CASE_ENQUIRY_ID repeats an earlier row",
    "missing_opened": "no OPEN_DT",
    "unreadable": "a date or coordinate that cannot be read",
    "closed_before_opened": "CLOSED_DT before OPEN_DT",
    "target_before_opened": "TARGET_DT before OPEN_DT",
    "closed_without_date": "CASE_STATUS Closed without CLOSED_DT",
    "open_with_date": "CASE_STATUS Open with a CLOSED_DT",
    "unknown_status": "CASE_STATUS neither Open nor Closed",
    "unmapped_type": "TYPE (and SUBJECT) not in the mapping",
    "unmapped_source": "Source not in the mapping",
}


def _fmt(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def problems(case: Case, mapping: Mapping) -> list[Rejection]:
    """The Boston rules a case breaks; empty when it can be imported. Every problem of the row is
    listed, not just the first."""
    out: list[Rejection] = []

    def add(column: str, reason: str, problem: str) -> None:
        out.append(Rejection(case.row, case.case_id, column, reason, problem))

    if not case.case_id:
        add("CASE_ENQUIRY_ID", "missing_id", _("缺少案件编号（CASE_ENQUIRY_ID）"))
    for column, raw in case.unreadable:
        add(column, "unreadable", _("{f} 的值“{v}”无法识别", f=column, v=raw))
    if case.opened is None:
        if "OPEN_DT" not in dict(case.unreadable):
            add("OPEN_DT", "missing_opened", _("缺少受理时间（OPEN_DT）"))
    else:
        if case.closed is not None and case.closed < case.opened:
            add("CLOSED_DT", "closed_before_opened",
                _("办结时间 {closed} 早于受理时间 {opened}", closed=_fmt(case.closed), opened=_fmt(case.opened)))
        if case.target is not None and case.target < case.opened:
            add("TARGET_DT", "target_before_opened",
                _("办理期限 {target} 早于受理时间 {opened}", target=_fmt(case.target), opened=_fmt(case.opened)))
    if case.status == "Closed" and case.closed is None and "CLOSED_DT" not in dict(case.unreadable):
        add("CLOSED_DT", "closed_without_date", _("状态为已办结（Closed）却没有办结时间（CLOSED_DT）"))
    elif case.status == "Open" and case.closed is not None:
        add("CLOSED_DT", "open_with_date", _("状态为未办结（Open）却有办结时间（CLOSED_DT）"))
    elif case.status not in ("Open", "Closed"):
        add("CASE_STATUS", "unknown_status", _("案件状态“{v}”不是 Open 或 Closed", v=case.status))
    if mapping.target(case) is None:
        add("TYPE", "unmapped_type", _("类型“{t}”（{s}）在映射文件中没有对应的分类", t=case.type, s=case.subject))
    if case.source not in mapping.channels:
        add("Source", "unmapped_source", _("来源“{v}”在映射文件中没有对应的渠道", v=case.source))
    return out


def screen(stream: Iterable[Case], mapping: Mapping, rejected: list[Rejection]) -> Iterator[Case]:
    """The cases that break no Boston rule; the others' problems are appended to `rejected` as the
    stream passes. A repeated CASE_ENQUIRY_ID is rejected on every row after the first."""
    seen: dict[str, int] = {}
    for case in stream:
        found = problems(case, mapping)
        if case.case_id:
            first = seen.setdefault(case.case_id, case.row)
            if first != case.row:
                found.append(Rejection(case.row, case.case_id, "CASE_ENQUIRY_ID", "duplicate_id",
                                       _("案件编号 {v} 与第 {n} 行重复", v=case.case_id, n=first)))
        if found:
            rejected.extend(found)
        else:
            yield case


# Payloads -----------------------------------------------------------------------------------------


def short_location(location: str) -> str:
    """Boston's Location without town, state and zip: "29 Hereford St"; an intersection as
    "Boylston St & Dartmouth St 路口"."""
    place = _TOWN_STATE_ZIP.sub("", location)
    place = " ".join(place.split())
    if _INTERSECTION.match(place):
        return _INTERSECTION.sub("", place) + " 路口"
    return place


def _text(case: Case, target: Target | None) -> str:
    phrase = target.zh if target else (case.type or case.subject or "市民诉求")
    place = short_location(case.location)
    text = f"{phrase}（{place}）" if place else phrase
    if case.title:
        text += f"。Boston 311：{case.title}"
    return text[:TEXT_MAX]


def _title(case: Case, target: Target | None) -> str:
    return (target.zh if target else case.title or case.type or "市民诉求")[:TITLE_MAX]


def appeal_payload(case: Case, mapping: Mapping) -> dict[str, Any]:
    """The JSON body of POST /api/v1/appeals (AppealCreate) for one case. Always carries the town's
    region code as well as the point (when Boston had one), so the appeal is placed even if the point
    misses every grid. Lenient: a case the import would reject still gets a body (an unmapped TYPE goes
    without a category), so that a benchmark can send the whole file."""
    target = mapping.target(case)
    body: dict[str, Any] = {
        "text": _text(case, target),
        "title": _title(case, target),
        "address": " ".join(case.location.split())[:ADDRESS_MAX],
        "region_code": mapping.region_code(case),
        "external_id": case.case_id,
        "caller_phone": "",
    }
    if (channel := mapping.channels.get(case.source)) is not None:
        body["channel"] = channel.value
    if (point := mapping.point(case)) is not None:
        body["lon"], body["lat"] = point
    if target is not None:
        body["category_code"] = target.category_code
        body["urgency"] = target.urgency.value
    return body


def open311_form(case: Case, mapping: Mapping) -> dict[str, str]:
    """The form fields of an Open311 GeoReport v2 POST requests.json for one case: service_code is the
    catalogue code; the place is lat/long when Boston had a point, with address_id (the town's 12-digit
    region code) always given as the fallback zhili.open311 uses for a point outside every grid; and
    Boston's CASE_ENQUIRY_ID travels as account_id, which zhili.open311 stores as the external id."""
    target = mapping.target(case)
    form = {
        "description": _text(case, target)[:OPEN311_DESCRIPTION_MAX],
        "address_string": " ".join(case.location.split())[:ADDRESS_MAX],
        "address_id": mapping.region_code(case),
        "account_id": case.case_id,
    }
    if target is not None:
        form["service_code"] = target.category_code
        form.update({f"attribute[{code}]": value for code, value in target.attributes.items()})
    if (point := mapping.point(case)) is not None:
        form["long"], form["lat"] = f"{point[0]:.6f}", f"{point[1]:.6f}"
    return form


# History import -------------------------------------------------------------------------------------


def _iso(value: datetime | None, mapping: Mapping) -> str:
    return mapping.local(value).isoformat() if value is not None else ""


def import_row(case: Case, mapping: Mapping) -> dict[str, str]:
    """One case in the history format of zhili.transfer.appeals. Meant for cases that passed
    `problems()`; a broken case still converts (its missing values left empty) so an importer can say
    what is wrong with it."""
    target = mapping.target(case)
    point = mapping.point(case)
    closed = case.status == "Closed"
    if closed:
        status = OrderStatus.closed
    elif target is not None and target.department_code:
        status = OrderStatus.accepted  # open in Boston: with its department, being handled
    else:
        status = OrderStatus.registered
    channel = mapping.channels.get(case.source)
    return {
        "external_id": case.case_id,
        "channel": channel.value if channel else "",
        "received_at": _iso(case.opened, mapping),
        "caller_name": "",
        "caller_phone": "",
        "text": _text(case, target),
        "title": _title(case, target),
        "address": " ".join(case.location.split())[:ADDRESS_MAX],
        "lon": f"{point[0]:.6f}" if point else "",
        "lat": f"{point[1]:.6f}" if point else "",
        "region_code": mapping.region_code(case),
        "category_code": target.category_code if target else "",
        "urgency": target.urgency.value if target else Urgency.normal.value,
        "department_code": (target.department_code or "") if target else "",
        "status": status.value,
        "due_at": _iso(case.target, mapping),
        "closed_at": _iso(case.closed, mapping) if closed else "",
        "rating": "",
        "closure_note": case.closure_reason[:NOTE_MAX] if closed else "",
    }


def import_rows(stream: Iterable[Case], mapping: Mapping) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, history row) for each case, in the order given."""
    for case in stream:
        yield case.row, import_row(case, mapping)


@dataclass
class Boston311Report:
    """What an import of the file did: the stored count, and every rejected row with its reasons."""

    read: int = 0
    stored: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    importer: "ImportReport | None" = None

    @property
    def rejected_rows(self) -> int:
        return len({r.row for r in self.rejected})

    def by_reason(self) -> Counter[str]:
        """Rows per reason (a row with two problems of different reasons counts under both)."""
        return Counter(reason for _row, reason in {(r.row, r.reason) for r in self.rejected})

    def first_rows(self, reason: str, n: int = 5) -> list[Rejection]:
        return sorted((r for r in self.rejected if r.reason == reason), key=lambda r: r.row)[:n]

    def lines(self, first: int = 5) -> list[str]:
        """The report as plain lines for a terminal: the counts, then each reason with its first rows."""
        out = [f"{self.read:,} cases read: {self.stored:,} stored, {self.rejected_rows:,} rejected "
               f"({self.seconds:.1f} s)"]
        for reason, rows in sorted(self.by_reason().items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  {rows:,} rows: {REASONS.get(reason, reason)} [{reason}]")
            out += [f"    row {r.row} (case {r.case_id or '-'}), {r.field}: {r.problem}"
                    for r in self.first_rows(reason, first)]
        return out


def import_cases(session: "Session", selected: list[Case], mapping: Mapping, *,
                 progress: Callable[[int, int], None] | None = None) -> Boston311Report:
    """Store the valid ones of `selected` as closed-loop history, and report the rest. The Boston rules
    are checked here first, so one bad Boston row never costs the others; what reaches `import_appeals`
    is then stored all-or-nothing, and its refusal (errors.ImportRejected: a code missing from this
    database, or cases already imported from SOURCE) propagates. `progress(cases done, cases rejected)`
    follows each batch of the importer. Does not commit."""
    from zhili.transfer.appeals import import_appeals

    report = Boston311Report()
    started = time.perf_counter()

    def counted() -> Iterator[Case]:
        for case in selected:
            report.read += 1
            yield case

    def on_batch(_processed: int, _bad: int) -> None:
        if progress is not None:
            progress(report.read, report.rejected_rows)

    good = screen(counted(), mapping, report.rejected)
    result = import_appeals(session, import_rows(good, mapping), source=SOURCE, progress=on_batch)
    on_batch(0, 0)
    report.importer = result
    report.stored = result.created
    report.seconds = time.perf_counter() - started
    return report


def select_cases(path: Path, mapping: Mapping, *, skip: int = 0, limit: int | None = None) -> list[Case]:
    """The file's cases in arrival order, after the first `skip`, at most `limit`."""
    selected = list(cases(path, default_lat=mapping.default_lat))
    return selected[skip:skip + limit if limit is not None else None]


def import_file(session: "Session", path: Path, *, mapping: Mapping | None = None, skip: int = 0,
                limit: int | None = None, progress: Callable[[int, int], None] | None = None) -> Boston311Report:
    """`import_cases` of `select_cases(path, mapping, skip=skip, limit=limit)`."""
    started = time.perf_counter()
    mapping = mapping or load_mapping()
    report = import_cases(session, select_cases(path, mapping, skip=skip, limit=limit), mapping, progress=progress)
    report.seconds = time.perf_counter() - started  # reading and sorting the file included
    return report


# Live replay --------------------------------------------------------------------------------------


def paced(stream: Iterable[Case], speedup: float, *, sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic, max_gap: float = 60.0) -> Iterator[Case]:
    """The cases at their real pace divided by `speedup` (600: an hour of Boston in six minutes). A
    gap is capped at `max_gap` seconds of waiting, so a quiet night does not stall a demo. Timing is
    absolute, not per gap, so slow consumers do not make the replay drift later and later."""
    start: float | None = None
    first: datetime | None = None
    behind = 0.0  # waiting skipped by the cap, in replay seconds
    last_due = 0.0
    for case in stream:
        if case.opened is None:
            continue
        if start is None or first is None:
            start, first = clock(), case.opened
        due = (case.opened - first).total_seconds() / speedup - behind
        if due - last_due > max_gap:
            behind += due - last_due - max_gap
            due = last_due + max_gap
        last_due = due
        wait = start + due - clock()
        if wait > 0:
            sleep(wait)
        yield case


def replay(session_factory: Callable[[], Any], stream: Iterable[Case], mapping: Mapping, *, speedup: float,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[tuple[Case, str | None]]:
    """File each case now as a new appeal through the same service as the intake API, one transaction
    each, paced by `paced()`. Yields (case, the order code or None when the service refused it); a
    refusal is not fatal, since a live demo keeps going."""
    from zhili.errors import AppError
    from zhili.work_order.schemas import AppealCreate
    from zhili.work_order.service import file_appeal

    for case in paced(stream, speedup, sleep=sleep):
        with session_factory() as session:
            try:
                _appeal, order = file_appeal(session, None, AppealCreate(**appeal_payload(case, mapping)))
            except (AppError, ValueError):
                session.rollback()
                yield case, None
                continue
            code = order.code
            session.commit()
        yield case, code
