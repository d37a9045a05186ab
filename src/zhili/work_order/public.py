"""Pages for citizens, without an account: file an appeal (/public/appeal), follow it by its tracking code
and the last four digits of the phone (/public/track), and rate the result (回访).

What keeps these open pages safe:
- CSRF: the session's token, exactly like /login (the session cookie exists before anyone signs in).
- Abuse: a per-IP limit in this process's memory. Several `zhili serve` processes each keep their own
  count, so the real ceiling is the limit times the processes; a shared store is the next step.
- Double submits: each form carries a one-time token; the first POST claims it in `idempotency_records`
  (owner "public-form") in the same transaction that files the appeal, so a retried POST shows the first
  tracking code and a concurrent twin hits the unique key instead of filing twice.
- Privacy: the tracking page needs the code and the phone's last four digits, and shows only public
  events, with citizen-facing labels and no staff or department names.
"""

import hashlib
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from shapely.geometry import mapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhili.auth.dependencies import DbSession, verify_csrf
from zhili.auth.subject import Subject, SubjectKind
from zhili.errors import AppError, FieldProblem
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction import repository as jrepo
from zhili.kit import geo
from zhili.kit.codes import RegionLevel, check_phone
from zhili.kit.i18n import N_, _
from zhili.models import Appeal, Category, Channel, IdempotencyRecord, Region, Role, WorkOrder
from zhili.templating import render
from zhili.work_order import repository as repo
from zhili.work_order import service
from zhili.work_order.attachments import IMAGE_TYPES, Checked, read_checked, store
from zhili.work_order.schemas import ActionIn, AppealCreate
from zhili.work_order.workflow import RATING_LABELS, Action, Rating, Status

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)

FORM_OWNER: Final = "public-form"
MAX_PHOTOS: Final = 6
CODE_PATTERN: Final = re.compile(rf"^[{service.TRACKING_ALPHABET}]{{10}}$")


# Abuse guard --------------------------------------------------------------------------------------


class RateLimiter:
    """At most `limit` hits per `window` seconds for each key (a client address), in this process."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        at = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= at - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(at)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


SUBMISSIONS = RateLimiter(limit=10, window=600)
LOOKUPS = RateLimiter(limit=30, window=600)


class TooMany(AppError):
    status_code = 429


def _client(request: Request) -> str:
    # Behind a proxy, run uvicorn with --proxy-headers so that this is the citizen's address.
    return request.client.host if request.client else "unknown"


def _guard(limiter: RateLimiter, request: Request) -> None:
    if not limiter.allow(_client(request)):
        raise TooMany(_("提交过于频繁，请 10 分钟后再试；紧急情况请直接拨打 12345 或 110"))


# Who the citizen is when rating -------------------------------------------------------------------


def citizen_subject(order: WorkOrder, place: Region) -> Subject:
    """The caller of an appeal, acting on its own order only. Its scope is the order's place (the
    community the matter lies in), so act()'s scoped read finds this order. It is not a staff row, and
    `kind` is what decides whether an event's actor_id points at staff: hence the non-staff kind and id 0
    (a `SubjectKind.citizen` would say it better)."""
    return Subject(kind=SubjectKind.api_key, id=0, name="citizen", display_name=_("群众"),
                   roles=frozenset({Role.citizen}), region_id=place.id, region_code=place.code,
                   region_level=RegionLevel(place.level), region_name=place.name)


# Queries of these pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryGroup:
    name: str
    items: list[Category]


def public_categories(session: Session) -> list[CategoryGroup]:
    """Active public leaves, grouped by their parent's name, in tree order."""
    leaves, names = repo.public_leaf_categories(session)
    groups: dict[str, list[Category]] = {}
    for c in leaves:
        groups.setdefault(str(names.get(c.parent_id or 0, _("其他"))), []).append(c)
    return [CategoryGroup(name, items) for name, items in groups.items()]


# The public form ----------------------------------------------------------------------------------


@dataclass
class AppealForm:
    """What the citizen typed, kept to fill the form again after a refusal."""

    caller_name: str = ""
    caller_phone: str = ""
    anonymous: bool = False
    category_code: str = ""
    address: str = ""
    lon: str = ""
    lat: str = ""
    text: str = ""
    form_token: str = ""


def _form_page(request: Request, session: Session, form: AppealForm, *, message: str | None = None,
               problems: list[FieldProblem] | None = None, status_code: int = 200) -> Response:
    return render(request, "public/appeal.html", {
        "form": form, "groups": public_categories(session), "message": message,
        "errors": {p.field: p.problem for p in problems or []}, "max_photos": MAX_PHOTOS,
    }, status_code=status_code)


def _done_page(request: Request, tracking_code: str, *, replay: bool = False) -> Response:
    return render(request, "public/filed.html", {"tracking_code": tracking_code, "replay": replay})


@router.get("/public/appeal")
def appeal_form(request: Request, session: DbSession) -> Response:
    return _form_page(request, session, AppealForm(form_token=str(uuid.uuid4())))


def _problems(form: AppealForm, photos: list[UploadFile], leaf_codes: set[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not form.caller_phone:
        problems.append(FieldProblem("caller_phone", _("请填写手机号：办理结果要回访您")))
    elif problem := check_phone(form.caller_phone):
        problems.append(FieldProblem("caller_phone", problem))
    if len(form.caller_name) > 50:
        problems.append(FieldProblem("caller_name", _("姓名最多 50 个字")))
    if form.category_code and form.category_code not in leaf_codes:
        problems.append(FieldProblem("category_code", _("请从列表中选择问题类别")))
    if len(form.address) > 200:
        problems.append(FieldProblem("address", _("地址最多 200 个字")))
    if len(form.text) < 5:
        problems.append(FieldProblem("text", _("请把问题写清楚：什么事、在哪里、从什么时候开始（至少 5 个字）")))
    elif len(form.text) > 2000:
        problems.append(FieldProblem("text", _("问题描述最多 2000 个字")))
    if bool(form.lon) != bool(form.lat):
        problems.append(FieldProblem("lon", _("地图位置不完整，请重新在地图上点选")))
    if len(photos) > MAX_PHOTOS:
        problems.append(FieldProblem("photos", _("最多上传 {n} 张照片", n=MAX_PHOTOS)))
    return problems


def _appeal_data(form: AppealForm, root: Region | None) -> AppealCreate:
    return AppealCreate(
        channel=Channel.web, caller_name=form.caller_name, caller_phone=form.caller_phone,
        anonymous=form.anonymous, text=form.text, address=form.address,
        lon=float(form.lon) if form.lon else None, lat=float(form.lat) if form.lat else None,
        # Without a point inside a grid, the appeal goes to the top command desk (the 12345 centre) to triage.
        region_code=root.code if root else None, category_code=form.category_code or None)


@router.post("/public/appeal", dependencies=[Depends(verify_csrf)])
async def submit_appeal(
    request: Request, session: DbSession,
    form_token: Annotated[str, Form(max_length=40)] = "",
    caller_name: Annotated[str, Form(max_length=200)] = "",
    caller_phone: Annotated[str, Form(max_length=40)] = "",
    anonymous: Annotated[bool, Form()] = False,
    category_code: Annotated[str, Form(max_length=30)] = "",
    address: Annotated[str, Form(max_length=1000)] = "",
    lon: Annotated[str, Form(max_length=30)] = "",
    lat: Annotated[str, Form(max_length=30)] = "",
    text: Annotated[str, Form(max_length=20000)] = "",
    photos: Annotated[list[UploadFile], File()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    _guard(SUBMISSIONS, request)
    form = AppealForm(caller_name.strip(), caller_phone.replace(" ", "").strip(), anonymous, category_code.strip(),
                      address.strip(), lon.strip(), lat.strip(), text.strip(), form_token.strip())
    try:
        token = str(uuid.UUID(form.form_token))
    except ValueError:
        form.form_token = str(uuid.uuid4())
        return _form_page(request, session, form, status_code=400,
                          message=_("页面已过期，请检查内容后重新提交"))
    if (claim := repo.form_claim(session, FORM_OWNER, token)) is not None and claim.body:
        return _done_page(request, claim.body, replay=True)
    files = [p for p in photos if p.filename]
    leaves = {c.code for g in public_categories(session) for c in g.items}
    problems = _problems(form, files, leaves)
    checked: list[Checked] = []
    if not problems:
        try:
            checked = [await read_checked(p, IMAGE_TYPES, "photos") for p in files]
        except AppError as exc:
            return _form_page(request, session, form, message=exc.message, problems=exc.problems,
                              status_code=exc.status_code)
    try:
        data = _appeal_data(form, repo.root_region(session)) if not problems else None
    except (ValidationError, ValueError):
        problems = [FieldProblem("lon", _("地图位置无效，请重新在地图上点选，或清除位置只填地址"))]
        data = None
    if data is None:
        return _form_page(request, session, form, message=problems[0].problem, problems=problems, status_code=422)
    # Claimed first, in the filing's own transaction: a concurrent twin blocks on the unique key, then fails.
    session.add(IdempotencyRecord(owner=FORM_OWNER, key=token, method="POST", path="/public/appeal",
                                  request_hash=hashlib.sha256(token.encode()).hexdigest()))
    try:
        session.flush()
    except IntegrityError:  # a twin of this POST filed first and has committed by now
        session.rollback()
        claim = repo.form_claim(session, FORM_OWNER, token)
        return _done_page(request, claim.body if claim and claim.body else "", replay=True)
    try:
        appeal, _order = service.file_appeal(session, None, data)
    except AppError as exc:
        session.rollback()
        return _form_page(request, session, form, message=exc.message, problems=exc.problems,
                          status_code=exc.status_code)
    for c in checked:
        store(session, c, appeal_id=appeal.id)
    claim = repo.form_claim(session, FORM_OWNER, token)
    assert claim is not None
    claim.status_code, claim.content_type, claim.body = 200, "text/plain", appeal.tracking_code
    return _done_page(request, appeal.tracking_code)


# The county outline for the form's map --------------------------------------------------------------


@router.get("/public/area.geojson")
def area(session: DbSession) -> Response:
    """Outlines only (county and towns), with no names or codes: enough to find one's place on a map
    without online tiles, and nothing a stranger should not see."""
    rows = repo.outlines(session)
    features = [{"type": "Feature", "properties": {"level": r.level},
                 "geometry": mapping(geo.loads(r.boundary).simplify(0.0003, preserve_topology=True))}
                for r in rows if r.boundary]
    return JSONResponse({"type": "FeatureCollection", "features": features},
                        headers={"Cache-Control": "public, max-age=3600"})


# Tracking and rating --------------------------------------------------------------------------------

# What a citizen reads for each status and each public event: plain words, no department names.
CITIZEN_STATUS: Final = {
    Status.registered: N_("已受理，正在分派给承办部门"),
    Status.dispatched: N_("已派给承办部门，等待签收"),
    Status.accepted: N_("承办部门正在办理"),
    Status.returned: N_("正在重新确定承办部门"),
    Status.suspended: N_("暂缓办理（条件暂不具备，恢复后继续）"),
    Status.handled: N_("已办理，正在核查办理结果"),
    Status.verified: N_("已办理完毕，请您评价"),
    Status.closed: N_("已办结"),
    Status.cancelled: N_("已作废"),
}
CITIZEN_ACTION: Final = {
    "register": N_("诉求已受理"),
    Action.dispatch.value: N_("已派给承办部门"),
    Action.recall.value: N_("重新分派"),
    Action.sign.value: N_("承办部门已签收，开始办理"),
    Action.return_.value: N_("承办部门认为不属其职责，重新分派"),
    Action.accept_return.value: N_("重新分派"),
    Action.reject_return.value: N_("已确认承办部门"),
    Action.approve_extension.value: N_("办理期限已延长"),
    Action.suspend.value: N_("暂缓办理"),
    Action.resume.value: N_("恢复办理"),
    Action.report.value: N_("承办部门已办理"),
    Action.verify_pass.value: N_("办理结果已核查"),
    Action.verify_fail.value: N_("核查未通过，重新办理"),
    Action.callback.value: N_("已收到您的评价"),
    Action.close_dissatisfied.value: N_("已办结"),
    Action.reopen.value: N_("根据您的评价重新办理"),
    Action.close.value: N_("已办结"),
    Action.cancel.value: N_("已作废"),
    Action.merge.value: N_("与相同问题合并办理"),
    Action.self_handle.value: N_("网格员已现场处理"),
    Action.answer.value: N_("已答复"),
}


def _last4(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-4:]


def _find(session: Session, code: str, phone4: str) -> Appeal | None:
    """The appeal only for the right code and phone digits; either wrong reads the same, so neither
    can be probed alone."""
    code = code.strip().upper()
    if not CODE_PATTERN.match(code) or not re.fullmatch(r"\d{4}", phone4.strip()):
        return None
    appeal = repo.appeal_by_tracking_code(session, code)
    if appeal is None or not appeal.caller_phone or _last4(appeal.caller_phone) != phone4.strip():
        return None
    return appeal


def _track_context(session: Session, appeal: Appeal) -> dict[str, Any]:
    order = appeal.work_order
    events = [{"at": e.at, "label": _(CITIZEN_ACTION.get(e.action, N_("办理进展"))),
               "answer": (e.data or {}).get("answer", "") if e.action == Action.answer.value else ""}
              for e in repo.public_events(session, order.id)]
    status = Status(order.status)
    first = order.appeals[0].id if order.appeals else appeal.id
    return {
        "appeal": appeal, "order": order, "events": events, "status": status,
        "status_text": _("您的评价已收到，指挥中心正在复核") if order.awaiting_review else _(CITIZEN_STATUS[status]),
        # Merging moves the duplicate's appeals onto the kept order: an appeal that is not the order's
        # first came from an order merged into this one.
        "merged": first != appeal.id,
        "can_rate": status is Status.verified and not order.awaiting_review,
        "ratings": [(r.value, _(RATING_LABELS[r])) for r in sorted(Rating, reverse=True)],
    }


def _track_page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    base: dict[str, Any] = {"code": "", "phone4": "", "message": None, "appeal": None, "thanks": False, "errors": {}}
    return render(request, "public/track.html", {**base, **context}, status_code=status_code)


@router.get("/public/track")
def track_form(request: Request, code: str = "") -> Response:
    code = code.strip().upper()
    return _track_page(request, {"code": code if CODE_PATTERN.match(code) else ""})


@router.post("/public/track", dependencies=[Depends(verify_csrf)])
def track(request: Request, session: DbSession, code: Annotated[str, Form(max_length=40)] = "",
          phone4: Annotated[str, Form(max_length=10)] = "") -> Response:
    _guard(LOOKUPS, request)
    appeal = _find(session, code, phone4)
    if appeal is None:
        return _track_page(request, {"code": code.strip().upper()[:10], "phone4": "",
                                     "message": _("没有找到：请核对查询码和登记手机号的后四位")}, status_code=404)
    return _track_page(request, {"code": appeal.tracking_code, "phone4": phone4.strip(),
                                 **_track_context(session, appeal)})


@router.post("/public/track/rate", dependencies=[Depends(verify_csrf)])
def rate(request: Request, session: DbSession, code: Annotated[str, Form(max_length=40)] = "",
         phone4: Annotated[str, Form(max_length=10)] = "", rating: Annotated[str, Form(max_length=2)] = "",
         comment: Annotated[str, Form(max_length=2000)] = "") -> Response:
    _guard(LOOKUPS, request)
    appeal = _find(session, code, phone4)
    if appeal is None:
        return _track_page(request, {"message": _("没有找到：请核对查询码和登记手机号的后四位")}, status_code=404)
    ids = {"code": appeal.tracking_code, "phone4": phone4.strip()}
    if rating not in {str(r.value) for r in Rating} or len(comment.strip()) > 500:
        message = _("请选择一项满意程度") if len(comment.strip()) <= 500 else _("评价意见最多 500 个字")
        return _track_page(request, {**ids, **_track_context(session, appeal), "message": message,
                                     "errors": {"rating": message}}, status_code=422)
    order = appeal.work_order
    place = jrepo.region_by_code(session, order.place_code)
    assert place is not None  # place_code is always a region's code (service.file_appeal)
    try:
        service.act(session, citizen_subject(order, place), order.id, Action.callback,
                    ActionIn(rating=int(rating), comment=comment.strip()))
    except AppError as exc:
        session.rollback()
        appeal = repo.appeal_by_tracking_code(session, appeal.tracking_code)
        assert appeal is not None
        return _track_page(request, {**ids, **_track_context(session, appeal),
                                     "message": _("这件诉求现在不能评价（可能已评价过），请刷新查看最新进展")},
                           status_code=exc.status_code)
    session.refresh(order)
    return _track_page(request, {**ids, **_track_context(session, appeal), "thanks": True})
