"""The demo's simulator: files realistic appeals over the demo county at a steady rate and moves some
open orders one step along the loop, acting as the accounts whose work each step is.

It only calls the same service functions people do (file_appeal, act), so everything it does is on
the event log like any other work. `zhili demo --no-simulate` turns it off.
"""

import logging
import random
import threading
from dataclasses import dataclass

from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhili.auth.service import subject_for_staff
from zhili.auth.subject import Subject
from zhili.db import session_scope
from zhili.errors import AppError
from zhili.kit import geo
from zhili.models import (
    AssignmentRole,
    Channel,
    Grid,
    GridMember,
    Region,
    Role,
    Staff,
    StaffRole,
    WorkOrder,
)
from zhili.work_order import service
from zhili.work_order.schemas import ActionIn, AppealCreate
from zhili.work_order.workflow import Action, Status

log = logging.getLogger("zhili.simulator")

ROADS = ["人民路", "建设路", "文化路", "解放街", "滨江路", "新华路", "中山路", "府前街", "学院路", "工业路"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明", "霞", "平", "刚", "桂英"]

# (category code, channel weights key, texts with {place} and {road})
APPEALS: list[tuple[str, list[str]]] = [
    ("E0102", ["{place}{road}公交站旁堆着好几袋生活垃圾，已经两天没人清运，夏天味道很重。",
               "{road}菜场门口的垃圾桶满了溢到路上，麻烦尽快清理。"]),
    ("E0104", ["{road}路面有大片泥浆，应该是渣土车撒落的，电动车很容易滑倒。"]),
    ("E0402", ["{road}人行道上有商户把桌椅摆出来经营，行人只能走机动车道。",
               "{place}路口晚上有摊贩占道卖夜宵，油烟很大。"]),
    ("E0403", ["{place}小区门口长期有车辆乱停，消防通道被堵，请交警处理。"]),
    ("E0301", ["{road}旁边的工地晚上十一点还在施工，噪音很大影响休息。"]),
    ("E0503", ["{road}附近闻到很浓的燃气味，怀疑管道泄漏，请马上派人来看！"]),
    ("C0101", ["{road}{n}号门前的上水井盖破了一个角，晚上很危险。"]),
    ("C0110", ["{place}{road}一段路灯已经一周不亮了，晚上走路看不清。"]),
    ("12345.TS.SRGL", ["{place}有人在绿化带里私自种菜，还堆放杂物，影响环境。"]),
    ("12345.TS.HJBH", ["{road}附近的小作坊排放刺鼻废气，晚上尤其严重。"]),
    ("12345.ZX.LDBZ", ["想咨询一下灵活就业人员在哪里办理社保缴费，需要带什么材料？"]),
    ("12345.ZX.JYWT", ["孩子明年上小学，想问{place}对应的是哪所学校，什么时候报名？"]),
    ("12345.QZ.MZ", ["{place}有位独居老人腿脚不便，家里没人照顾，能否安排社区上门看看？"]),
    ("12345.TS.SCJG", ["在{road}一家超市买到过期食品，商家拒绝退换。"]),
    ("12345.TS.GS", ["{place}已经停水一天了，没有任何通知，什么时候恢复？"]),
    ("12345.TS.DLJT", ["{road}和{road2}交叉口的红绿灯时间太短，行人过不去。"]),
    ("12345.JY.JTYS", ["建议在{place}增设一条公交线路，居民去县城很不方便。"]),
    ("12345.JB.SHZA", ["{place}{road}有一家棋牌室疑似聚众赌博，晚上人很多。"]),
    ("12345.BY.SRGL", ["表扬{place}的环卫工人，每天把{road}打扫得很干净。"]),
]
CHANNELS = [(Channel.hotline, 6), (Channel.mobile, 2), (Channel.web, 1), (Channel.grid, 2)]


@dataclass
class Counts:
    filed: int = 0
    moved: int = 0


class Simulator:
    def __init__(self, seed: int | None = None) -> None:
        self.rng = random.Random(seed)

    # Filing -------------------------------------------------------------------------------------

    def _point_in(self, grid: Grid) -> tuple[float, float]:
        shape = geo.loads(grid.boundary)
        for _try in range(30):
            lon = self.rng.uniform(grid.min_lon, grid.max_lon)
            lat = self.rng.uniform(grid.min_lat, grid.max_lat)
            if shape.contains(Point(lon, lat)):
                return round(lon, 6), round(lat, 6)
        point = shape.representative_point()
        return point.x, point.y

    def file_one(self, session: Session) -> WorkOrder | None:
        total = session.scalar(select(func.count(Grid.id))) or 0
        if not total:
            return None
        grid = session.scalars(select(Grid).order_by(Grid.id).offset(self.rng.randrange(total)).limit(1)).one()
        code, texts = self.rng.choice(APPEALS)
        road, road2 = self.rng.sample(ROADS, 2)
        text = self.rng.choice(texts).format(place=grid.region.name, road=road, road2=road2, n=self.rng.randint(1, 99))
        channel = self.rng.choices([c for c, _w in CHANNELS], [w for _c, w in CHANNELS])[0]
        lon, lat = self._point_in(grid)
        on_patrol = channel == Channel.grid
        reporter = self._grid_worker(session, grid) if on_patrol else self._staff(session, Role.hotline_agent)
        data = AppealCreate(
            channel=channel, caller_name="" if channel == Channel.grid else self._name(),
            caller_phone="" if channel == Channel.grid else f"13{self.rng.randint(500000000, 999999999)}",
            anonymous=self.rng.random() < 0.1, text=text,
            address=f"{grid.region.name}{road}{self.rng.randint(1, 200)}号",
            lon=lon, lat=lat, urgency="urgent" if code == "E0503" else "normal",
            # Citizens on the web and mobile forms do not choose a category: the classifier proposes one.
            category_code=None if channel in (Channel.web, Channel.mobile) else code,
        )
        _appeal, order = service.file_appeal(session, reporter, data)
        return order

    def _name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    # Moving ---------------------------------------------------------------------------------------

    def _staff(self, session: Session, role: Role, *, region_id: int | None = None,
               department_id: int | None = None) -> Subject | None:
        stmt = select(Staff).join(StaffRole).where(StaffRole.role == role, Staff.active.is_(True))
        if region_id is not None:
            stmt = stmt.where(Staff.region_id == region_id)
        if department_id is not None:
            stmt = stmt.where(Staff.department_id == department_id)
        staff = session.scalars(stmt.order_by(Staff.id)).first()
        return subject_for_staff(staff) if staff else None

    def _grid_worker(self, session: Session, grid: Grid | None) -> Subject | None:
        if grid is None:
            return None
        staff_id = session.scalar(select(GridMember.staff_id).where(GridMember.grid_id == grid.id,
                                                                    GridMember.staff_id.is_not(None)).limit(1))
        staff = session.get(Staff, staff_id) if staff_id else None
        return subject_for_staff(staff) if staff else None

    def _centre(self, session: Session, order: WorkOrder) -> Subject | None:
        region: Region | None = order.region
        while region is not None:
            subject = self._staff(session, Role.dispatcher, region_id=region.id)
            if subject:
                return subject
            region = region.parent
        return None

    def _lead_handler(self, session: Session, order: WorkOrder) -> Subject | None:
        lead = next((a for a in order.assignments if a.role == AssignmentRole.lead and a.state != "withdrawn"), None)
        return self._staff(session, Role.department_handler, department_id=lead.department_id) if lead else None

    def advance(self, session: Session, order: WorkOrder) -> bool:
        """One sensible next step for an order, taken by whoever would take it."""
        status = Status(order.status)
        step: tuple[Subject | None, Action, ActionIn] | None = None
        match status:
            case Status.registered:
                if order.grid_report and self.rng.random() < 0.5:
                    step = (self._grid_worker(session, order.grid), Action.self_handle,
                            ActionIn(report="已现场处置完毕，拍照留档。"))
                elif order.suggested_department is not None:
                    step = (self._centre(session, order), Action.dispatch,
                            ActionIn(department=order.suggested_department.code))
            case Status.dispatched:
                handler = self._lead_handler(session, order)
                if self.rng.random() < 0.1:
                    step = (handler, Action.return_, ActionIn(reason="经核实不属于本部门职责，建议改派。"))
                else:
                    step = (handler, Action.sign, ActionIn())
            case Status.returned:
                step = (self._centre(session, order), Action.accept_return, ActionIn())
            case Status.accepted:
                step = (self._lead_handler(session, order), Action.report,
                        ActionIn(report="已安排人员到场处理，问题已解决。"))
            case Status.handled:
                worker = self._grid_worker(session, order.grid)
                step = (worker or self._centre(session, order), Action.verify_pass, ActionIn())
            case Status.verified:
                if order.awaiting_review:
                    step = (self._centre(session, order), Action.close_dissatisfied,
                            ActionIn(reason="已向群众解释政策，按规定办结。"))
                else:
                    rating = self.rng.choices([5, 4, 3, 2, 1], [50, 30, 12, 6, 2])[0]
                    step = (self._staff(session, Role.hotline_agent), Action.callback,
                            ActionIn(rating=rating, comment="" if rating > 2 else "处理不及时"))
            case Status.suspended | Status.closed | Status.cancelled:
                return False
        if step is None or step[0] is None:
            return False
        subject, action, data = step
        assert subject is not None
        try:
            service.act(session, subject, order.id, action, data)
        except AppError as exc:  # a move the situation no longer allows: try another order next time
            log.debug("simulator skipped %s on %s: %s", action, order.code, exc.message)
            return False
        return True

    def patrol(self, session: Session) -> int:
        """Every grid worker reports a position somewhere in their grid (the command map's worker layer)."""
        from zhili.command.service import record_position
        from zhili.models import GridDuty, GridMember

        members = session.execute(select(GridMember.staff_id, Grid).join(Grid, Grid.id == GridMember.grid_id)
                                  .where(GridMember.duty == GridDuty.worker, GridMember.staff_id.is_not(None))).all()
        for staff_id, grid in members:
            record_position(session, staff_id, *self._point_in(grid))  # type: ignore[arg-type]  # accounts only
        return len(members)

    def tick(self, moves: int = 3) -> Counts:
        counts = Counts()
        with session_scope() as session:
            if self.file_one(session) is not None:
                counts.filed += 1
            self.patrol(session)
        open_ids = self._open_order_ids()
        for order_id in self.rng.sample(open_ids, min(moves, len(open_ids))):
            with session_scope() as session:
                order = session.get(WorkOrder, order_id)
                if order is not None and self.advance(session, order):
                    counts.moved += 1
        return counts

    def _open_order_ids(self) -> list[int]:
        with session_scope() as session:
            return list(session.scalars(select(WorkOrder.id).where(
                WorkOrder.status.not_in([Status.closed.value, Status.cancelled.value])).order_by(WorkOrder.id)))


def run_in_background(interval_seconds: float, stop: threading.Event, seed: int | None = None) -> threading.Thread:
    """A daemon thread that ticks until `stop` is set; errors are logged, never fatal."""
    simulator = Simulator(seed)

    def loop() -> None:
        while not stop.wait(interval_seconds):
            try:
                simulator.tick()
            except Exception:  # the demo keeps running whatever one tick hit
                log.exception("simulator tick failed")

    thread = threading.Thread(target=loop, name="zhili-simulator", daemon=True)
    thread.start()
    return thread

