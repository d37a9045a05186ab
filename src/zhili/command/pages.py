"""The live command map (/command): the page, and the JSON its layers and side panel read."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, Response

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.command import service
from zhili.config import get_settings
from zhili.errors import FieldProblem, Invalid
from zhili.idempotency import CommittingRoute
from zhili.kit.i18n import _
from zhili.models import Role
from zhili.templating import render
from zhili.work_order import repository as repo
from zhili.work_order.workflow import event_label

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)
CSRF = [Depends(verify_csrf)]
COMMAND = (Role.admin, Role.dispatcher, Role.command_leader, Role.viewer, Role.grid_chief)
Code = Annotated[str | None, Query(max_length=15, pattern=r"^\d{12}(\d{3})?$")]
Zoom = Annotated[int, Query(ge=0, le=22)]


def _bbox(text: str | None) -> list[float] | None:
    if not text:
        return None
    try:
        box = [float(v) for v in text.split(",")]
    except ValueError:
        box = []
    if len(box) != 4 or not (-180 <= box[0] <= box[2] <= 180 and -90 <= box[1] <= box[3] <= 90):
        message = _("地图范围 bbox 应为“西经度,南纬度,东经度,北纬度”四个数")
        raise Invalid(message, [FieldProblem("bbox", message, "120.1,30.2,120.3,30.4")])
    return box


@router.get("/command")
def command_page(request: Request, subject: PageSubject, session: DbSession, code: Code = None) -> Response:
    subject.require(*COMMAND)
    root = service.area(session, subject, None)
    start = service.area(session, subject, code) if code else root
    settings = get_settings()
    return render(request, "command/command.html", {
        "root": {"code": root.code, "name": root.name, "level": root.level},
        "start": {"code": start.code, "name": start.name, "level": start.level},
        "tile_url": settings.map_tile_url, "tile_attribution": settings.map_tile_attribution,
    })


@router.get("/command/area.json")
def area_json(subject: PageSubject, session: DbSession, code: Code = None) -> JSONResponse:
    subject.require(*COMMAND)
    return JSONResponse(service.area_view(session, subject, service.area(session, subject, code)))


@router.get("/command/summary.json")
def summary_json(subject: PageSubject, session: DbSession, code: Code = None) -> JSONResponse:
    subject.require(*COMMAND)
    return JSONResponse(service.summary(session, subject, service.area(session, subject, code)))


@router.get("/command/orders.json")
def orders_json(subject: PageSubject, session: DbSession, code: Code = None, bbox: str | None = None,
                zoom: Zoom = 12) -> JSONResponse:
    subject.require(*COMMAND)
    where = service.area(session, subject, code)
    return JSONResponse(service.orders_layer(session, subject, where, _bbox(bbox), zoom))


@router.get("/command/heat.json")
def heat_json(subject: PageSubject, session: DbSession, code: Code = None, bbox: str | None = None,
              zoom: Zoom = 12, days: Annotated[int, Query(ge=1, le=366)] = 30) -> JSONResponse:
    subject.require(*COMMAND)
    where = service.area(session, subject, code)
    return JSONResponse(service.heat_layer(session, subject, where, _bbox(bbox), zoom, days))


@router.get("/command/hot.json")
def hot_json(subject: PageSubject, session: DbSession, code: Code = None,
             days: Annotated[int, Query(ge=1, le=90)] = 7) -> JSONResponse:
    subject.require(*COMMAND)
    return JSONResponse(service.hot_layer(session, subject, service.area(session, subject, code), days))


@router.get("/command/workers.json")
def workers_json(subject: PageSubject, session: DbSession, code: Code = None) -> JSONResponse:
    subject.require(*COMMAND)
    return JSONResponse(service.workers_layer(session, subject, service.area(session, subject, code)))


@router.get("/command/order/{order_id}.json")
def order_json(subject: PageSubject, session: DbSession, order_id: int) -> JSONResponse:
    subject.require(*COMMAND)
    order = repo.order(session, subject, order_id)
    timeline: list[dict[str, Any]] = [
        {"at": e.at.isoformat(), "label": event_label(e.action), "actor": e.actor_name}
        for e in repo.events(session, order.id)]
    return JSONResponse({**service.marker(order), "timeline": timeline})


@router.post("/grid/position", dependencies=CSRF, status_code=204)
def report_position(subject: PageSubject, session: DbSession, lon: Annotated[float, Form(ge=-180, le=180)],
                    lat: Annotated[float, Form(ge=-90, le=90)]) -> Response:
    """The patrol page sends the phone's position while it is open (the map's 网格员位置 layer)."""
    subject.require(Role.grid_worker, Role.grid_chief)
    service.record_position(session, subject.id, lon, lat)
    return Response(status_code=204)
