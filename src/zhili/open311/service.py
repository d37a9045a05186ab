"""Open311 GeoReport v2 on top of the closed loop: services are the public category leaves, a service
request is a work order (service_request_id = its code, token = its appeal's tracking code), and a POST
files an appeal through `work_order.service.file_appeal`, like every other channel.

Where a POST says where (in this order):
- `lat` + `long`: the grid containing the point (with `address_id`, if also given, as the fallback for
  a point outside every grid);
- `address_id`: a 12-digit region code files under that region; a 15-digit grid code files in that grid,
  at a point inside it (so the order lands in the grid's own list);
- `address_string` alone: under the most specific region or grid of the key's area whose name appears
  in the text (a grid beats its community, a community its town; a longer name wins a tie), else under
  the key's own region, for its command centre to place.

Reading: an API key (or a signed-in staff account) reads what `readable(subject, WorkOrder)` allows. With
ZHILI_OPEN311_OPEN_READ anyone may also read the requests under public categories (zhili.open311.repository).
"""

from datetime import datetime, timedelta
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhili.auth.subject import Subject
from zhili.category.attributes import attribute_out, attributes_of
from zhili.config import get_settings
from zhili.errors import FieldProblem, Invalid, NotFound
from zhili.intake import reference
from zhili.intake.service import Accepted, accept, queued_item
from zhili.jurisdiction import repository as jrepo
from zhili.kit import geo
from zhili.kit.calendar import SHANGHAI
from zhili.kit.codes import LEVEL_DEPTH, RegionLevel
from zhili.kit.i18n import N_, _
from zhili.kit.time import now
from zhili.models import Appeal, Attachment, Category, Grid, IntakeState, OrderEvent, Region, WorkOrder
from zhili.open311 import repository as repo
from zhili.open311.formats import DISCOVERY_FORMATS, timestamp
from zhili.open311.schemas import RequestsQuery, ServiceRequestIn
from zhili.work_order import repository as work_orders
from zhili.work_order.public import CITIZEN_ACTION, CITIZEN_STATUS
from zhili.work_order.schemas import AppealCreate
from zhili.work_order.service import lead_assignment
from zhili.work_order.workflow import Status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-24T00:00:00+08:00"  # when this endpoint last changed what it offers
WINDOW = timedelta(days=90)  # the spec's default search window, and the longest one asked for
MAX_REQUESTS = 1000  # the spec's cap on one answer
PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
# The Open311 argument each AppealCreate field came from, for naming it in an error (region_code: see
# _open311_name).
OPEN311_FIELDS = {"lon": "lat/long", "lat": "lat/long", "text": "description", "category_code": "service_code",
                  "caller_phone": "phone", "caller_name": "first_name", "external_id": "account_id",
                  "address": "address_string", "attributes": "attribute"}


# Discovery and services --------------------------------------------------------------------------


def discovery(base_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": _("诉求请拨打 12345 政务服务便民热线；接口问题请联系本平台系统管理员"),
        "key_service": _("API 密钥由本平台系统管理员在「API 密钥」管理页签发，请向管理员申请"),
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base_url.rstrip('/')}/open311/v2",
                       "changeset": CHANGESET, "type": "production", "formats": DISCOVERY_FORMATS}],
    }


def services(session: Session) -> list[dict[str, Any]]:
    leaves, _parents = work_orders.public_leaf_categories(session)
    described = repo.with_attributes(session, [c.id for c in leaves])
    names = repo.ancestor_names(session, leaves)
    return [{"service_code": c.code, "service_name": c.name, "description": c.description,
             "metadata": c.id in described, "type": "realtime",
             "keywords": ", ".join(names[i] for i in c.ancestor_ids if i in names),
             "group": names.get(c.parent_id) if c.parent_id else None} for c in leaves]


def service(session: Session, code: str) -> Category:
    """A leaf that takes outside appeals (public, active, no active children), or 404."""
    found = reference.kept.public_leaf(code)
    if found is None:
        raise NotFound(_("没有服务 {c}，或它不受理外部提交：请从 services 列表中选择", c=code[:30]))
    return found


def service_definition(session: Session, code: str) -> dict[str, Any]:
    category = service(session, code)
    return {"service_code": category.code,
            "attributes": [attribute_out(a).model_dump(mode="json") for a in attributes_of(session, category)]}


def jurisdiction(session: Session, value: str) -> Region | None:
    """The region a jurisdiction_id names (None for none, or for the deployment's own id), or 404."""
    value = value.strip()
    if not value or value == get_settings().open311_jurisdiction_id:
        return None
    region = jrepo.region_by_code(session, value) if value.isdigit() and len(value) == 12 else None
    if region is None:
        raise NotFound(_("jurisdiction_id「{j}」不是本平台的辖区：请不填，或填本平台的区划代码", j=value[:50]))
    return region


# Filing ----------------------------------------------------------------------------------------------


def submit(session: Session, subject: Subject, data: ServiceRequestIn) -> tuple[Accepted, list[dict[str, Any]]]:
    """Checks the request as an appeal of the key's own channel, ready for the queued intake; and the
    spec's one-element answer: its token (the service_request_id follows at tokens/{token} once filed,
    within a second on a running server)."""
    category = service(session, data.service_code)
    lon, lat, region_code = _place(session, subject, data)
    try:
        appeal_data = AppealCreate(
            channel=None, caller_name=_full_name(data.first_name, data.last_name), caller_phone=_phone(data.phone),
            text=data.description or category.name, address=data.address_string, lon=lon, lat=lat,
            region_code=region_code, category_code=category.code, external_id=data.account_id,
            attributes=data.attribute, media_url=data.media_url)
    except ValidationError as exc:
        raise _invalid(_renamed_problems(exc, data)) from None
    try:
        accepted = accept(session, subject, appeal_data)
    except Invalid as exc:
        raise _invalid([FieldProblem(_open311_name(p.field, data), p.problem, p.expected)
                        for p in exc.problems]) from None
    return accepted, [{"token": accepted.token,
                       "service_notice": _("已受理，正在登记为工单：凭 token 可查询工单编号"),
                       "account_id": data.account_id or None}]


def _invalid(problems: list[FieldProblem]) -> Invalid:
    return Invalid(problems[0].problem, problems)


def _open311_name(field: str, data: ServiceRequestIn) -> str:
    head, dot, rest = field.partition(".")
    if head == "region_code":  # the place came from address_id, else from the point or the address text
        return "address_id" if data.address_id else "lat/long" if data.lat is not None else "address_string"
    return OPEN311_FIELDS.get(head, head) + dot + rest


def _renamed_problems(exc: ValidationError, data: ServiceRequestIn) -> list[FieldProblem]:
    from zhili.app import validation_problems  # the one place pydantic's messages are translated

    # AppealCreate's only check across fields is the place: a problem without a field is the point's.
    errors = [{**e, "loc": (e["loc"] or ("lon",))} for e in exc.errors()]
    return [FieldProblem(_open311_name(p.field, data), p.problem, p.expected)
            for p in validation_problems(RequestValidationError(errors))]


def _full_name(first: str, last: str) -> str:
    """Family name first and unspaced in Chinese; given name first otherwise."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"
    return " ".join(p for p in (first, last) if p)


def _phone(value: str) -> str:
    digits = value.replace(" ", "")
    for prefix in ("+86", "0086"):
        digits = digits.removeprefix(prefix)
    return digits.lstrip("-")


def _place(session: Session, subject: Subject, data: ServiceRequestIn) -> tuple[float | None, float | None, str | None]:
    """(lon, lat, region_code) for file_appeal, by the order of preference in the module's docstring."""
    if (data.lat is None) != (data.long is None):
        raise _invalid([FieldProblem("lat/long", _("lat 和 long 须同时填写（WGS-84 十进制度）"))])
    by_id = _by_address_id(session, data.address_id) if data.address_id else None
    if data.lat is not None:
        return data.long, data.lat, by_id[2] if by_id else None
    if by_id is not None:
        return by_id
    if data.address_string:
        return _by_address_string(session, subject, data.address_string)
    raise _invalid([FieldProblem("lat/long", _("请给出地点：lat 和 long，或 address_string，或 address_id"),
                                 expected=_("WGS-84 坐标、地址文字，或 12 位区划代码 / 15 位网格编码"))])


def _by_address_id(session: Session, code: str) -> tuple[float | None, float | None, str]:
    if len(code) == 15:
        grid = repo.grid_by_code(session, code)
        if grid is None:
            raise _invalid([FieldProblem("address_id", _("网格 {c} 不存在", c=code))])
        return _inside(grid)
    region = reference.kept.region(code)
    if region is None:
        raise _invalid([FieldProblem("address_id", _("区划 {c} 不存在", c=code))])
    return None, None, region.code


def _inside(grid: Grid) -> tuple[float, float, str]:
    point = geo.loads(grid.boundary).representative_point()
    return point.x, point.y, grid.region.code


def _by_address_string(session: Session, subject: Subject, text: str) -> tuple[float | None, float | None, str]:
    named = repo.places_named_in(session, subject, text)
    if not named:
        return None, None, subject.region_code

    def depth(place: Region | Grid) -> tuple[int, int]:
        level = len(LEVEL_DEPTH) if isinstance(place, Grid) else LEVEL_DEPTH[RegionLevel(place.level)]
        return level, len(place.name)

    best = max(named, key=depth)
    return _inside(best) if isinstance(best, Grid) else (None, None, best.code)


def notice(order: WorkOrder, expected: datetime | None) -> str:
    if order.status in repo.CLOSED:
        return _(CITIZEN_STATUS[Status(order.status)])
    if expected is None:
        return _("已由{r}受理", r=order.region.name)
    return _("已由{r}受理，预计 {t} 前办理完毕", r=order.region.name,
             t=expected.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))


# Reading -------------------------------------------------------------------------------------------


def find_requests(session: Session, subject: Subject | None, query: RequestsQuery, within: Region | None,
                  base_url: str) -> list[dict[str, Any]]:
    """Newest first, at most MAX_REQUESTS. With service_request_id, the other filters are ignored."""
    visible = repo.visible_orders(subject, get_settings().open311_open_read)
    if query.service_request_id:
        stmt = repo.requests(visible, codes=query.service_request_id, service_codes=[], statuses=[], start=None,
                             end=None, within=None, limit=MAX_REQUESTS)
    else:
        start, end = window(query.start_date, query.end_date)
        stmt = repo.requests(visible, codes=[], service_codes=query.service_code, statuses=query.status,
                             start=start, end=end, within=within.code if within else None, limit=MAX_REQUESTS)
    return _requests_out(session, list(session.scalars(stmt).unique()), base_url)


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The spec's default is the last 90 days; a range asked for may not span more, nor run backwards."""
    end = end or (start + WINDOW if start else now())
    start = start or end - WINDOW
    if start > end:
        raise _invalid([FieldProblem("start_date", _("start_date 应早于 end_date"))])
    if end - start > WINDOW:
        raise _invalid([FieldProblem("end_date", _("查询时间范围不能超过 90 天，请分段查询"))])
    return start, end


def one_request(session: Session, subject: Subject | None, code: str, base_url: str) -> list[dict[str, Any]]:
    return _requests_out(session, [_order(session, subject, code)], base_url)


def token(session: Session, subject: Subject | None, value: str) -> list[dict[str, Any]]:
    """The request a token became; while it is still queued, the token alone (as the spec says); if it
    could not be filed, the token and a notice saying why."""
    appeal = repo.appeal_by_token(session, repo.visible_orders(subject, get_settings().open311_open_read), value)
    if appeal is not None:
        return [{"service_request_id": appeal.work_order.code, "token": appeal.tracking_code}]
    item = queued_item(session, subject, value)
    if item is None:
        raise NotFound(_("查询码 {t} 不存在，或不在您可查询的范围内", t=value[:20]))
    if item.state == IntakeState.rejected:
        reasons = "；".join(p["problem"] for p in item.problems or [])
        return [{"token": item.token, "service_notice": _("未能登记为工单：{r}", r=reasons)}]
    return [{"token": item.token, "service_notice": _("已受理，正在登记为工单，请稍后再查")}]


def photo(session: Session, subject: Subject | None, code: str, extension: str) -> Attachment:
    """The photo a request's media_url points at: the first photo of its first appeal."""
    order = _order(session, subject, code)
    first = order.appeals[0] if order.appeals else None
    found = repo.first_photos(session, [first.id]).get(first.id) if first else None
    if found is None or PHOTO_EXTENSIONS[found.content_type] != extension:
        raise NotFound(_("服务请求 {c} 没有 .{e} 照片", c=code[:20], e=extension))
    return found


def _order(session: Session, subject: Subject | None, code: str) -> WorkOrder:
    visible = repo.visible_orders(subject, get_settings().open311_open_read)
    order = session.scalars(visible.where(WorkOrder.code == code)).unique().first()
    if order is None:
        raise NotFound(_("服务请求 {c} 不存在，或不在您可查询的范围内", c=code[:20]))
    return order  # type: ignore[no-any-return]


def _requests_out(session: Session, orders: list[WorkOrder], base_url: str) -> list[dict[str, Any]]:
    events = repo.latest_public_events(session, [o.id for o in orders])
    firsts = {o.id: o.appeals[0] for o in orders if o.appeals}
    photos = repo.first_photos(session, [a.id for a in firsts.values()])
    return [_request_out(o, events.get(o.id), firsts.get(o.id), photos, base_url) for o in orders]


def _request_out(order: WorkOrder, event: OrderEvent | None, appeal: Appeal | None,
                 photos: dict[int, Attachment], base_url: str) -> dict[str, Any]:
    lead = lead_assignment(order)
    expected = order.handle_due_at or order.due_at
    return {
        "service_request_id": order.code,
        "status": "closed" if order.status in repo.CLOSED else "open",
        "status_notes": status_notes(event),
        "service_name": order.category.name if order.category else None,
        "service_code": order.category.code if order.category else None,
        "description": order.description,
        "agency_responsible": lead.department.name if lead else None,
        "service_notice": notice(order, expected),
        "requested_datetime": timestamp(order.created_at),
        "updated_datetime": timestamp(order.updated_at),
        "expected_datetime": timestamp(expected),
        "address": order.address or None,
        "address_id": order.grid.code if order.grid else order.place_code,
        "zipcode": None,
        "lat": order.lat,
        "long": order.lon,
        "media_url": _media_url(order, appeal, photos, base_url),
    }


def status_notes(event: OrderEvent | None) -> str | None:
    """The latest public step in the citizen's words, with what it said (an answer, a handling report or
    a reason); never who took it."""
    if event is None:
        return None
    label = _(CITIZEN_ACTION.get(event.action, N_("办理进展")))
    data = event.data or {}
    said = data.get("answer") or data.get("report") or event.reason
    return _("{label}：{said}", label=label, said=said) if said else label


def _media_url(order: WorkOrder, appeal: Appeal | None, photos: dict[int, Attachment], base_url: str) -> str | None:
    if appeal is None:
        return None
    if appeal.media_url:
        return appeal.media_url
    found = photos.get(appeal.id)
    if found is None:
        return None
    return f"{base_url.rstrip('/')}/open311/v2/requests/{order.code}.{PHOTO_EXTENSIONS[found.content_type]}"
