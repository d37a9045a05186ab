"""The work-order state machine (DESIGN.md, "The closed loop"), as a table and a few pure guards.

No I/O and no database: the service loads an `OrderState`, asks `decide()` whether a person holding
some roles may take an action with some inputs, and gets back an `Outcome` (the new state, whether the
move counts as rework, what the handling clock does) or a `Refused` carrying a sentence that person can
act on. The service then locks the row, writes the event row, and recomputes the deadline columns.

Decisions worth knowing (each is a row or a guard below):

- Suspension (挂账) is taken by the command centre (dispatcher or command leader) with a reason; there
  is no separate handler request. DESIGN gives the handler "extension or return" and the dispatcher the
  reviews, so a department that cannot proceed asks for an extension or tells the centre, which decides.
  Suspend stops the handling clock; resume restarts it with the time that was left.
- A return (退回) is possible only before signing (the loop draws it from `dispatched`): signing is
  accepting responsibility. Returns are reviewed: accepted, the order goes back to `registered` for
  re-dispatch; rejected (with a reason), it goes back to the same department to sign.
- A dissatisfied callback (rating 1–2) leaves the order in `verified` with `awaiting_review`; only the
  command centre clears it, by closing with a reason (不满意办结) or reopening for re-handling
  (不满意重办, → accepted, counted as rework). A satisfied rating (3–5) closes the order.
- Verification is on site by the grid, or at the desk by the command centre for orders with nothing to
  see on site (a policy question, a phone-only matter).
- Self-handling (自行处置) closes, without dispatch or callback, only an order that came from a grid
  worker's own patrol report; a citizen's appeal always gets a callback.
- Admin, viewer and mediator hold no workflow powers: administering the system is not handling orders.
- Side actions (add_assist, extension request/approval, escalate, supervise) keep the status; the
  service changes the assignments, deadlines or owning command centre they imply.

Scope checks (is this order in the actor's jurisdiction, is it the actor's department's assignment,
does a merge target exist and stay open) need the database and belong to the service.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum
from typing import Final, assert_never

from zhili.auth.subject import ROLE_LABELS
from zhili.errors import AppError, FieldProblem
from zhili.kit.i18n import N_, _
from zhili.models.category import Stage
from zhili.models.staff import Role
from zhili.models.work_order import Channel, OrderStatus

# One definition of the statuses, kept with the model so that the table and the column never drift.
Status = OrderStatus

CHANNEL_LABELS: Final = {
    Channel.hotline: N_("12345 热线"),
    Channel.web: N_("网站"),
    Channel.mobile: N_("移动端"),
    Channel.open311: N_("外部系统"),
    Channel.grid: N_("网格上报"),
    Channel.sensor: N_("感知设备"),
    Channel.referral: N_("上级转办"),
    Channel.social: N_("网络问政"),
}
STATUS_LABELS: Final = {
    Status.registered: N_("待派遣"),
    Status.dispatched: N_("待签收"),
    Status.accepted: N_("处置中"),
    Status.returned: N_("已退回"),
    Status.suspended: N_("挂账"),
    Status.handled: N_("待核查"),
    Status.verified: N_("待回访"),
    Status.closed: N_("已办结"),
    Status.cancelled: N_("已作废"),
}

FINAL: Final = frozenset({Status.closed, Status.cancelled})
OPEN: Final = frozenset(Status) - FINAL
# Before a department has taken responsibility: the order is on the command centre's desk.
AT_CENTRE: Final = frozenset({Status.registered, Status.returned})
# Until the department reports it handled, a leader may still send the order up to the parent centre.
UNTIL_REPORTED: Final = OPEN - {Status.handled, Status.verified}


class Action(StrEnum):
    dispatch = "dispatch"  # 派遣: to a lead department (and assisting ones)
    recall = "recall"  # 撤回派遣: the centre takes back an order not yet signed for
    sign = "sign"  # 签收
    return_ = "return"  # 退回, with a reason, before signing
    accept_return = "accept_return"  # 同意退回: back to the centre for re-dispatch
    reject_return = "reject_return"  # 驳回退回: back to the same department
    add_assist = "add_assist"  # 增加协办部门
    request_extension = "request_extension"  # 申请延期
    approve_extension = "approve_extension"  # 批准延期
    reject_extension = "reject_extension"  # 驳回延期
    suspend = "suspend"  # 挂账: the handling clock stops
    resume = "resume"  # 恢复办理: the handling clock runs again
    escalate = "escalate"  # 上报 to the parent region's command centre
    supervise = "supervise"  # 督办, with a response due
    report = "report"  # 处置反馈: text and photos
    verify_pass = "verify_pass"  # 核查通过
    verify_fail = "verify_fail"  # 核查不通过: back to the department, rework
    callback = "callback"  # 回访: five-level rating and comment
    close_dissatisfied = "close_dissatisfied"  # 不满意办结, with a reason
    reopen = "reopen"  # 不满意重办: rework
    close = "close"  # 办结 without a callback (nobody to call, or unreachable), with a reason
    cancel = "cancel"  # 作废: invalid
    merge = "merge"  # 合并: a duplicate, cancelled into another order that keeps its appeals
    self_handle = "self_handle"  # 自行处置: a grid worker's own report, closed by the grid
    answer = "answer"  # 直接答复: a consultation answered at once, closed without dispatch


ACTION_LABELS: Final = {
    Action.dispatch: N_("派遣"),
    Action.recall: N_("撤回派遣"),
    Action.sign: N_("签收"),
    Action.return_: N_("退回"),
    Action.accept_return: N_("同意退回"),
    Action.reject_return: N_("驳回退回"),
    Action.add_assist: N_("增加协办部门"),
    Action.request_extension: N_("申请延期"),
    Action.approve_extension: N_("批准延期"),
    Action.reject_extension: N_("驳回延期"),
    Action.suspend: N_("挂账"),
    Action.resume: N_("恢复办理"),
    Action.escalate: N_("上报"),
    Action.supervise: N_("督办"),
    Action.report: N_("反馈处置结果"),
    Action.verify_pass: N_("核查通过"),
    Action.verify_fail: N_("核查不通过"),
    Action.callback: N_("回访"),
    Action.close_dissatisfied: N_("不满意办结"),
    Action.reopen: N_("不满意重办"),
    Action.close: N_("办结"),
    Action.cancel: N_("作废"),
    Action.merge: N_("合并"),
    Action.self_handle: N_("自行处置"),
    Action.answer: N_("直接答复"),
}


# Events that are not moves: a new appeal's registration, and the deadline sweep's marks.
SYSTEM_EVENT_LABELS: Final = {"register": N_("登记"), "overdue": N_("超期"), "warn": N_("临期预警")}


def event_label(action: str) -> str:
    """The label of any event on the timeline, a move or not."""
    if action in Action.__members__.values():
        return _(ACTION_LABELS[Action(action)])
    return _(SYSTEM_EVENT_LABELS.get(action, action))


class Rating(IntEnum):
    """The five satisfaction levels of a callback (GB/T 39734/39735)."""

    very_dissatisfied = 1
    dissatisfied = 2
    fair = 3
    satisfied = 4
    very_satisfied = 5

    @property
    def is_dissatisfied(self) -> bool:
        return self <= Rating.dissatisfied


RATING_LABELS: Final = {
    Rating.very_dissatisfied: N_("非常不满意"),
    Rating.dissatisfied: N_("不满意"),
    Rating.fair: N_("基本满意"),
    Rating.satisfied: N_("满意"),
    Rating.very_satisfied: N_("非常满意"),
}


class Input(StrEnum):
    """The names of the inputs an action may need, as the service passes them in `fields`."""

    reason = "reason"
    department = "department"  # the lead department of a dispatch
    category = "category"  # optional: the category a dispatch files the order under
    assisting = "assisting"  # optional assisting departments of a dispatch
    departments = "departments"  # the departments add_assist adds
    rating = "rating"
    comment = "comment"
    target = "target"  # the order a duplicate is merged into
    due_at = "due_at"  # a new due time
    extra = "extra"  # or an extra limit ("3wd"): the service turns it into a due time
    response_due = "response_due"  # when a supervision must be answered
    report = "report"  # what was done (report, self_handle)
    answer = "answer"  # what the caller was told
    photos = "photos"


INPUT_LABELS: Final = {
    Input.reason: N_("理由"),
    Input.department: N_("主办部门"),
    Input.category: N_("事项分类"),
    Input.assisting: N_("协办部门"),
    Input.departments: N_("协办部门"),
    Input.rating: N_("满意度评价"),
    Input.comment: N_("评价意见"),
    Input.target: N_("合并到的工单"),
    Input.due_at: N_("新的办理期限"),
    Input.extra: N_("延长的时限"),
    Input.response_due: N_("督办回复期限"),
    Input.report: N_("处置情况"),
    Input.answer: N_("答复内容"),
    Input.photos: N_("照片"),
}


@dataclass(frozen=True)
class AnyOf:
    """At least one of these inputs (approve_extension: a new due time or an extra limit)."""

    names: tuple[Input, ...]

    def __init__(self, *names: Input) -> None:
        object.__setattr__(self, "names", names)


class Clock(StrEnum):
    """What the handling clock does. The service does the arithmetic: on `stop` it keeps the time
    left; on `start` it sets the handling due time to now plus that time, on the working calendar."""

    stop = "stop"
    start = "start"


@dataclass(frozen=True)
class Move:
    """One row of the table: an action, where it may start, where it leads, who may take it."""

    action: Action
    sources: frozenset[Status]
    target: Status | None  # None: a side action, the status stays
    roles: frozenset[Role]
    needs: tuple[Input | AnyOf, ...] = ()
    rework: bool = False
    clock: Clock | None = None


S, A, In = Status, Action, Input  # short names keep the table one row per line

CENTRE: Final = frozenset({Role.dispatcher, Role.command_leader})  # 指挥中心: what a dispatcher may, a leader may
LEADER: Final = frozenset({Role.command_leader})
HANDLER: Final = frozenset({Role.department_handler})
GRID: Final = frozenset({Role.grid_worker, Role.grid_chief})
AGENT: Final = frozenset({Role.hotline_agent})
CITIZEN: Final = frozenset({Role.citizen})
STOP, START = Clock.stop, Clock.start
NEW_DUE: Final = AnyOf(Input.due_at, Input.extra)  # a new due time, or an extra limit to add


def _rows(*moves: Move) -> dict[Action, Move]:
    table = {m.action: m for m in moves}
    missing = set(Action) - set(table)
    if missing or len(table) != len(moves):
        raise ValueError(f"the workflow table needs exactly one row per action; missing {sorted(missing)}")
    return table


def on(*statuses: Status) -> frozenset[Status]:
    return frozenset(statuses)


MOVES: Final = _rows(
    #    action                from                          to            who              needs
    # Triage at the centre
    Move(A.dispatch,           on(S.registered),             S.dispatched, CENTRE | AGENT,  (In.department,)),
    Move(A.answer,             on(S.registered),             S.closed,     CENTRE | AGENT,  (In.answer,)),
    Move(A.self_handle,        on(S.registered),             S.closed,     GRID,            (In.report,)),
    Move(A.cancel,             AT_CENTRE,                    S.cancelled,  CENTRE,          (In.reason,)),
    Move(A.merge,              AT_CENTRE,                    S.cancelled,  CENTRE,          (In.target,)),
    # The department signs for it, or sends it back for review
    Move(A.recall,             on(S.dispatched),             S.registered, CENTRE,          (In.reason,)),
    Move(A.sign,               on(S.dispatched),             S.accepted,   HANDLER),
    Move(A.return_,            on(S.dispatched),             S.returned,   HANDLER,         (In.reason,)),
    Move(A.accept_return,      on(S.returned),               S.registered, CENTRE),
    Move(A.reject_return,      on(S.returned),               S.dispatched, CENTRE,          (In.reason,)),
    # Handling, and its side actions
    Move(A.add_assist,         on(S.dispatched, S.accepted), None,         CENTRE,          (In.departments,)),
    Move(A.request_extension,  on(S.accepted),               None,         HANDLER,         (In.reason,)),
    Move(A.approve_extension,  on(S.accepted),               None,         CENTRE,          (NEW_DUE,)),
    Move(A.reject_extension,   on(S.accepted),               None,         CENTRE,          (In.reason,)),
    Move(A.suspend,            on(S.accepted),               S.suspended,  CENTRE,          (In.reason,), clock=STOP),
    Move(A.resume,             on(S.suspended),              S.accepted,   CENTRE,          clock=START),
    Move(A.report,             on(S.accepted),               S.handled,    HANDLER,         (In.report,)),
    # Superiors: escalate until the department reports, supervise until the order is finished
    Move(A.escalate,           UNTIL_REPORTED,               None,         LEADER,          (In.reason,)),
    Move(A.supervise,          OPEN,                         None,         LEADER,          (In.response_due,)),
    # Verification, on site by the grid or at the desk by the centre
    Move(A.verify_pass,        on(S.handled),                S.verified,   GRID | CENTRE),
    Move(A.verify_fail,        on(S.handled),                S.accepted,   GRID | CENTRE,   (In.reason,), rework=True),
    # Callback: a dissatisfied rating (1–2) stays in `verified`, awaiting the centre's review (_target)
    Move(A.callback,           on(S.verified),               S.closed,     AGENT | CITIZEN, (In.rating,)),
    Move(A.close_dissatisfied, on(S.verified),               S.closed,     CENTRE,          (In.reason,)),
    Move(A.reopen,             on(S.verified),               S.accepted,   CENTRE,          (In.reason,), rework=True),
    Move(A.close,              on(S.verified),               S.closed,     CENTRE,          (In.reason,)),
)
del S, A, In


@dataclass(frozen=True)
class OrderState:
    """What the workflow needs to know about an order; the service builds it from the row."""

    status: Status
    extension_pending: bool = False  # a handler asked for more time, the centre has not answered
    awaiting_review: bool = False  # the citizen was dissatisfied, the centre has not decided
    grid_report: bool = False  # the order came from a grid worker's patrol, not from a citizen


@dataclass(frozen=True)
class Outcome:
    action: Action
    before: OrderState
    after: OrderState
    rework: bool = False  # counts towards 返工率 (verify_fail, reopen)
    clock: Clock | None = None
    rating: Rating | None = None  # the parsed rating of a callback

    @property
    def status(self) -> Status:
        return self.after.status

    @property
    def moved(self) -> bool:
        return self.after.status != self.before.status


class Why(StrEnum):
    final = "final"  # the order is closed or cancelled
    status = "status"  # not from this status
    role = "role"  # none of the actor's roles may take it
    guard = "guard"  # this status, but not in this situation (no pending extension, …)
    input = "input"  # an input is missing or wrong


class Refused(AppError):
    """An action the workflow does not allow, with a sentence saying what to do instead."""

    _STATUS_CODES: Final = {Why.final: 409, Why.status: 409, Why.guard: 409, Why.role: 403, Why.input: 422}

    def __init__(self, why: Why, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message, problems)
        self.why = why
        self.status_code = self._STATUS_CODES[why]


def running_stage(status: Status) -> Stage | None:
    """Which deadline runs while an order is in a status (none while it waits at the centre or is
    suspended: the centre's own triage time is measured from the event log, not a stage clock)."""
    match status:
        case Status.dispatched:
            return Stage.sign
        case Status.accepted:
            return Stage.handle
        case Status.handled:
            return Stage.verify
        case Status.verified:
            return Stage.callback
        case Status.registered | Status.returned | Status.suspended | Status.closed | Status.cancelled:
            return None
        case _:
            assert_never(status)


def _label(action: Action) -> str:
    return _(ACTION_LABELS[action])


def _final_refusal(state: OrderState, action: Action) -> Refused | None:
    match state.status:
        case Status.closed:
            return Refused(Why.final, _("工单已办结，不能再「{action}」。如问题仍未解决，请重新登记诉求。",
                                        action=_label(action)))
        case Status.cancelled:
            return Refused(Why.final, _("工单已作废（无效或已合并到其他工单），不能再「{action}」。",
                                        action=_label(action)))
        case (Status.registered | Status.dispatched | Status.accepted | Status.returned | Status.suspended
              | Status.handled | Status.verified):
            return None
        case _:
            assert_never(state.status)


def _guard(state: OrderState, action: Action) -> str | None:
    """The branches of the loop that depend on more than the status. None: nothing stands in the way."""
    match action:
        case Action.request_extension:
            if state.extension_pending:
                return _("已有一份延期申请在等待审批，请等审批结果后再申请。")
        case Action.approve_extension | Action.reject_extension:
            if not state.extension_pending:
                return _("没有待审批的延期申请，无法「{action}」。", action=_label(action))
        case Action.callback | Action.close:
            if state.awaiting_review:
                return _("群众对办理结果不满意，等待指挥中心审核：请选择「不满意办结」（说明理由）或「不满意重办」。")
        case Action.close_dissatisfied | Action.reopen:
            if not state.awaiting_review:
                return _("只有回访不满意、等待审核的工单可以「{action}」。", action=_label(action))
        case Action.self_handle:
            if not state.grid_report:
                return _("只有网格员巡查上报的工单可以自行处置；群众诉求须派遣办理并回访。")
        case (Action.dispatch | Action.recall | Action.sign | Action.return_ | Action.accept_return
              | Action.reject_return | Action.add_assist | Action.suspend | Action.resume | Action.escalate
              | Action.supervise | Action.report | Action.verify_pass | Action.verify_fail | Action.cancel
              | Action.merge | Action.answer):
            pass
        case _:
            assert_never(action)
    return None


def refusal(state: OrderState, action: Action, roles: frozenset[Role]) -> Refused | None:
    """Why this actor may not take this action on this order now (inputs aside), or None."""
    final = _final_refusal(state, action)
    if final is not None:
        return final
    move = MOVES[action]
    if state.status not in move.sources:
        allowed = _("、").join(_(STATUS_LABELS[s]) for s in Status if s in move.sources)
        return Refused(Why.status, _("工单当前为「{status}」，不能「{action}」；只有「{allowed}」的工单可以这样做。",
                                     status=_(STATUS_LABELS[state.status]), action=_label(action),
                                     allowed=allowed))
    if not roles & move.roles:
        names = _("、").join(_(ROLE_LABELS[r]) for r in Role if r in move.roles)
        return Refused(Why.role, _("「{action}」需要以下角色之一：{roles}", action=_label(action), roles=names))
    reason = _guard(state, action)
    if reason is not None:
        return Refused(Why.guard, reason)
    return None


def allowed_actions(state: OrderState, roles: frozenset[Role]) -> tuple[Action, ...]:
    """The actions to offer this actor on this order, in table order (inputs are asked for later)."""
    return tuple(a for a in MOVES if refusal(state, a, roles) is None)


def _present(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | set | frozenset | dict):
        return bool(value)
    return True


def _parse_rating(value: object) -> Rating | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        return Rating(value)
    except ValueError:
        return None


def _check_inputs(move: Move, fields: Mapping[str, object]) -> Refused | None:
    problems: list[FieldProblem] = []
    for need in move.needs:
        names = need.names if isinstance(need, AnyOf) else (need,)
        if not any(_present(fields.get(n)) for n in names):
            problems.append(FieldProblem(names[0] if len(names) == 1 else "|".join(names), _("必填"),
                                         expected=_("或").join(_(INPUT_LABELS[n]) for n in names)))
    if problems:
        missing = _("、").join(p.expected for p in problems)
        return Refused(Why.input, _("「{action}」还需要填写：{fields}", action=_label(move.action), fields=missing),
                       problems)
    if Input.rating in move.needs and _parse_rating(fields.get(Input.rating)) is None:
        return Refused(Why.input, _("满意度评价应为 1（非常不满意）到 5（非常满意）之间的整数。"),
                       [FieldProblem(Input.rating, _("不在 1 到 5 之间"), expected="1–5")])
    return None


def _target(move: Move, state: OrderState, rating: Rating | None) -> Status:
    if move.action is Action.callback and rating is not None and rating.is_dissatisfied:
        return Status.verified  # the one branch: the centre reviews a dissatisfied rating first
    return move.target if move.target is not None else state.status


def decide(state: OrderState, action: Action, roles: frozenset[Role],
           fields: Mapping[str, object] | None = None) -> Outcome:
    """Whether an actor with these roles may take this action on an order in this state with these
    inputs; raises `Refused` if not. Pure: the same arguments always give the same answer."""
    fields = fields or {}
    refused = refusal(state, action, roles)
    if refused is not None:
        raise refused
    move = MOVES[action]
    refused = _check_inputs(move, fields)
    if refused is not None:
        raise refused
    rating = _parse_rating(fields.get(Input.rating)) if action is Action.callback else None
    status = _target(move, state, rating)
    if action is Action.request_extension:
        extension_pending = True
    elif action in (Action.approve_extension, Action.reject_extension):
        extension_pending = False
    else:  # a request still open when the order leaves handling has nothing left to extend
        extension_pending = state.extension_pending and status is Status.accepted
    after = replace(
        state,
        status=status,
        extension_pending=extension_pending,
        # Set only by a dissatisfied callback; anything that leaves `verified` has settled it.
        awaiting_review=(rating is not None and rating.is_dissatisfied)
        or (state.awaiting_review and status is Status.verified),
    )
    return Outcome(action, state, after, rework=move.rework, clock=move.clock, rating=rating)
