"""The work-order state machine, table by table, without a database.

The expected tables below are written out by hand from DESIGN.md ("The closed loop", "Users and
roles"), not read from the module, so that a changed row in workflow.py fails here until someone
decides the change was meant.
"""

from collections.abc import Mapping

import pytest

from zhili.kit.i18n import set_locale
from zhili.models.category import Stage
from zhili.models.staff import Role
from zhili.work_order.workflow import (
    Action,
    Clock,
    OrderState,
    Outcome,
    Rating,
    Refused,
    Status,
    Why,
    allowed_actions,
    decide,
    running_stage,
)

# Every status × every action. A cell is the status the order moves to, "=" for a side action that keeps
# the status, "." for refused. Columns are the status the order is in.
ABBREV = {
    "reg": Status.registered, "dis": Status.dispatched, "acc": Status.accepted, "ret": Status.returned,
    "sus": Status.suspended, "han": Status.handled, "ver": Status.verified, "clo": Status.closed,
    "can": Status.cancelled,
}
EXPECTED_MOVES = """
                     reg  dis  acc  ret  sus  han  ver  clo  can
dispatch             dis  .    .    .    .    .    .    .    .
answer               clo  .    .    .    .    .    .    .    .
self_handle          clo  .    .    .    .    .    .    .    .
cancel               can  .    .    can  .    .    .    .    .
merge                can  .    .    can  .    .    .    .    .
recall               .    reg  .    .    .    .    .    .    .
sign                 .    acc  .    .    .    .    .    .    .
return               .    ret  .    .    .    .    .    .    .
accept_return        .    .    .    reg  .    .    .    .    .
reject_return        .    .    .    dis  .    .    .    .    .
add_assist           .    =    =    .    .    .    .    .    .
request_extension    .    .    =    .    .    .    .    .    .
approve_extension    .    .    =    .    .    .    .    .    .
reject_extension     .    .    =    .    .    .    .    .    .
suspend              .    .    sus  .    .    .    .    .    .
resume               .    .    .    .    acc  .    .    .    .
report               .    .    han  .    .    .    .    .    .
escalate             =    =    =    =    =    .    .    .    .
supervise            =    =    =    =    =    =    =    .    .
verify_pass          .    .    .    .    .    ver  .    .    .
verify_fail          .    .    .    .    .    acc  .    .    .
callback             .    .    .    .    .    .    clo  .    .
close_dissatisfied   .    .    .    .    .    .    clo  .    .
reopen               .    .    .    .    .    .    acc  .    .
close                .    .    .    .    .    .    clo  .    .
"""


def _parse_moves(text: str) -> dict[tuple[Status, Action], Status | None | str]:
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    table: dict[tuple[Status, Action], Status | None | str] = {}
    for action_name, *cells in rows:
        assert len(cells) == len(header), action_name
        for column, cell in zip(header, cells, strict=True):
            key = (ABBREV[column], Action(action_name))
            table[key] = "refused" if cell == "." else None if cell == "=" else ABBREV[cell]
    return table


MOVES = _parse_moves(EXPECTED_MOVES)
ALLOWED = sorted((k for k, v in MOVES.items() if v != "refused"), key=lambda k: (k[1], k[0]))

CENTRE = {Role.dispatcher, Role.command_leader}
WHO: dict[Action, set[Role]] = {
    Action.dispatch: CENTRE | {Role.hotline_agent},
    Action.answer: CENTRE | {Role.hotline_agent},
    Action.self_handle: {Role.grid_worker, Role.grid_chief},
    Action.cancel: CENTRE,
    Action.merge: CENTRE,
    Action.recall: CENTRE,
    Action.sign: {Role.department_handler},
    Action.return_: {Role.department_handler},
    Action.accept_return: CENTRE,
    Action.reject_return: CENTRE,
    Action.add_assist: CENTRE,
    Action.request_extension: {Role.department_handler},
    Action.approve_extension: CENTRE,
    Action.reject_extension: CENTRE,
    Action.suspend: CENTRE,
    Action.resume: CENTRE,
    Action.report: {Role.department_handler},
    Action.escalate: {Role.command_leader},
    Action.supervise: {Role.command_leader},
    Action.verify_pass: CENTRE | {Role.grid_worker, Role.grid_chief},
    Action.verify_fail: CENTRE | {Role.grid_worker, Role.grid_chief},
    Action.callback: {Role.hotline_agent, Role.citizen},
    Action.close_dissatisfied: CENTRE,
    Action.reopen: CENTRE,
    Action.close: CENTRE,
}

# The inputs each action cannot do without (approve_extension: a new due time OR an extra limit).
NEEDS: dict[Action, set[str]] = {
    Action.dispatch: {"department"},
    Action.answer: {"answer"},
    Action.self_handle: {"report"},
    Action.cancel: {"reason"},
    Action.merge: {"target"},
    Action.recall: {"reason"},
    Action.sign: set(),
    Action.return_: {"reason"},
    Action.accept_return: set(),
    Action.reject_return: {"reason"},
    Action.add_assist: {"departments"},
    Action.request_extension: {"reason"},
    Action.approve_extension: set(),  # tested on its own below
    Action.reject_extension: {"reason"},
    Action.suspend: {"reason"},
    Action.resume: set(),
    Action.report: {"report"},
    Action.escalate: {"reason"},
    Action.supervise: {"response_due"},
    Action.verify_pass: set(),
    Action.verify_fail: {"reason"},
    Action.callback: {"rating"},
    Action.close_dissatisfied: {"reason"},
    Action.reopen: {"reason"},
    Action.close: {"reason"},
}

EVERYONE = frozenset(Role)
FULL: Mapping[str, object] = {
    "reason": "部门职责不符", "department": 7, "assisting": [8], "departments": [8, 9], "rating": 4,
    "comment": "处理及时", "target": 42, "due_at": "2026-12-01T18:00:00+08:00", "extra": "3wd",
    "response_due": "2026-12-01T18:00:00+08:00", "report": "已清理完毕", "answer": "已告知办理流程",
    "photos": ["a.jpg"],
}


def state_for(status: Status, action: Action) -> OrderState:
    """An order in `status` whose flags let `action` through if the status does."""
    return OrderState(
        status,
        extension_pending=action in (Action.approve_extension, Action.reject_extension),
        awaiting_review=action in (Action.close_dissatisfied, Action.reopen),
        grid_report=action is Action.self_handle,
    )


def as_(*roles: Role) -> frozenset[Role]:
    return frozenset(roles)


def refused(state: OrderState, action: Action, roles: frozenset[Role],
            fields: Mapping[str, object] | None = None) -> Refused:
    with pytest.raises(Refused) as caught:
        decide(state, action, roles, fields)
    return caught.value


# --- every status × every action ------------------------------------------------------------------------


def test_the_expected_table_covers_every_status_and_action():
    assert set(MOVES) == {(s, a) for s in Status for a in Action}
    assert set(WHO) == set(Action) == set(NEEDS)


EVERY_CELL = sorted(MOVES, key=lambda k: (k[1], k[0]))


@pytest.mark.parametrize(("status", "action"), EVERY_CELL, ids=str)
def test_every_status_and_action_is_allowed_or_refused_as_designed(status: Status, action: Action):
    expected = MOVES[(status, action)]
    state = state_for(status, action)
    if expected == "refused":
        why = refused(state, action, EVERYONE, FULL)
        assert why.why is (Why.final if status in (Status.closed, Status.cancelled) else Why.status)
        assert why.status_code == 409
        assert why.message
    else:
        outcome = decide(state, action, EVERYONE, FULL)
        assert outcome.status == (status if expected is None else expected)
        assert outcome.moved is (expected is not None)
        assert outcome.before == state


@pytest.mark.parametrize(("status", "action"), ALLOWED, ids=str)
def test_every_allowed_move_is_taken_by_exactly_the_designed_roles(status: Status, action: Action):
    state = state_for(status, action)
    may = set()
    for role in Role:
        try:
            decide(state, action, as_(role), FULL)
        except Refused as exc:
            assert exc.why is Why.role and exc.status_code == 403, (role, exc.message)
            assert "需要以下角色之一" in exc.message
        else:
            may.add(role)
    assert may == WHO[action]


@pytest.mark.parametrize("role", [Role.admin, Role.viewer, Role.mediator])
def test_admin_viewer_and_mediator_hold_no_workflow_powers(role: Role):
    for status in Status:
        for flags in [(False, False, False), (True, True, True)]:
            assert allowed_actions(OrderState(status, *flags), as_(role)) == ()


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_each_action_refuses_without_its_required_inputs(action: Action):
    status = next(s for (s, a), v in MOVES.items() if a is action and v != "refused")
    state = state_for(status, action)
    minimal = {name: FULL[name] for name in NEEDS[action]}
    if action is Action.approve_extension:
        minimal = {"extra": "3wd"}
    decide(state, action, EVERYONE, minimal)  # enough
    for name in NEEDS[action]:
        empties: tuple[object, ...] = (None, "", "   ", [])
        for empty in empties:
            exc = refused(state, action, EVERYONE, {**minimal, name: empty})
            assert exc.why is Why.input and exc.status_code == 422
            assert [p.field for p in exc.problems] == [name]


def test_approve_extension_needs_a_new_due_time_or_an_extra_limit():
    state = OrderState(Status.accepted, extension_pending=True)
    exc = refused(state, Action.approve_extension, as_(Role.dispatcher), {"reason": "同意"})
    assert exc.why is Why.input
    assert "新的办理期限或延长的时限" in exc.message
    for given in ({"due_at": "2026-12-01T18:00:00+08:00"}, {"extra": "3wd"}):
        assert not decide(state, Action.approve_extension, as_(Role.dispatcher), given).after.extension_pending


# --- rework and the clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "action"), ALLOWED, ids=str)
def test_only_verify_fail_and_reopen_count_as_rework_and_only_suspend_resume_touch_the_clock(
        status: Status, action: Action):
    outcome = decide(state_for(status, action), action, EVERYONE, FULL)
    assert outcome.rework is (action in (Action.verify_fail, Action.reopen))
    assert outcome.clock == {Action.suspend: Clock.stop, Action.resume: Clock.start}.get(action)


def test_each_status_runs_the_designed_stage_clock():
    assert {s: running_stage(s) for s in Status} == {
        Status.registered: None, Status.dispatched: Stage.sign, Status.accepted: Stage.handle,
        Status.returned: None, Status.suspended: None, Status.handled: Stage.verify,
        Status.verified: Stage.callback, Status.closed: None, Status.cancelled: None,
    }


# --- guards ------------------------------------------------------------------------------------------------


def test_return_without_reason_is_refused_with_a_message():
    exc = refused(OrderState(Status.dispatched), Action.return_, as_(Role.department_handler), {})
    assert exc.why is Why.input
    assert exc.message == "「退回」还需要填写：理由"
    assert exc.problems[0].field == "reason"


def test_a_signed_order_can_no_longer_be_returned():
    exc = refused(OrderState(Status.accepted), Action.return_, as_(Role.department_handler), FULL)
    assert exc.why is Why.status
    assert "只有「待签收」的工单可以这样做" in exc.message


@pytest.mark.parametrize("rating", [1, 2, Rating.dissatisfied])
def test_a_dissatisfied_callback_stays_verified_awaiting_review(rating: int):
    outcome = decide(OrderState(Status.verified), Action.callback, as_(Role.hotline_agent), {"rating": rating})
    assert outcome.status is Status.verified
    assert outcome.after.awaiting_review
    assert outcome.rating is not None and outcome.rating.is_dissatisfied
    assert not outcome.moved and not outcome.rework


@pytest.mark.parametrize("rating", [3, 4, 5])
def test_a_satisfied_callback_closes_the_order(rating: int):
    outcome = decide(OrderState(Status.verified), Action.callback, as_(Role.citizen), {"rating": rating})
    assert outcome.status is Status.closed
    assert not outcome.after.awaiting_review
    assert outcome.rating == Rating(rating)


@pytest.mark.parametrize("rating", [0, 6, -1, "4", 4.0, True, None])
def test_callback_refuses_a_rating_outside_the_five_levels(rating: object):
    exc = refused(OrderState(Status.verified), Action.callback, as_(Role.hotline_agent), {"rating": rating})
    assert exc.why is Why.input
    assert exc.problems[0].field == "rating"


def test_an_order_awaiting_review_takes_neither_another_callback_nor_a_plain_close():
    state = OrderState(Status.verified, awaiting_review=True)
    for action, role in ((Action.callback, Role.hotline_agent), (Action.close, Role.dispatcher)):
        exc = refused(state, action, as_(role), FULL)
        assert exc.why is Why.guard and exc.status_code == 409
        assert "不满意办结" in exc.message and "不满意重办" in exc.message


def test_the_centre_closes_a_dissatisfied_order_with_a_reason():
    state = OrderState(Status.verified, awaiting_review=True)
    assert refused(state, Action.close_dissatisfied, as_(Role.dispatcher), {}).why is Why.input
    outcome = decide(state, Action.close_dissatisfied, as_(Role.dispatcher), {"reason": "诉求超出政策范围"})
    assert outcome.status is Status.closed
    assert not outcome.after.awaiting_review and not outcome.rework


def test_reopen_sends_the_order_back_to_the_department_as_rework():
    state = OrderState(Status.verified, awaiting_review=True)
    outcome = decide(state, Action.reopen, as_(Role.command_leader), {"reason": "群众反映问题仍在"})
    assert outcome.status is Status.accepted
    assert outcome.rework
    assert not outcome.after.awaiting_review


@pytest.mark.parametrize("action", [Action.close_dissatisfied, Action.reopen])
def test_close_dissatisfied_and_reopen_need_a_dissatisfied_callback(action: Action):
    exc = refused(OrderState(Status.verified), action, as_(Role.dispatcher), FULL)
    assert exc.why is Why.guard
    assert "只有回访不满意、等待审核的工单" in exc.message


def test_verify_fail_sends_the_order_back_as_rework():
    outcome = decide(OrderState(Status.handled), Action.verify_fail, as_(Role.grid_worker), {"reason": "垃圾未清"})
    assert outcome.status is Status.accepted and outcome.rework


@pytest.mark.parametrize("action", [Action.approve_extension, Action.reject_extension])
def test_an_extension_decision_needs_a_pending_request(action: Action):
    exc = refused(OrderState(Status.accepted), action, as_(Role.dispatcher), FULL)
    assert exc.why is Why.guard
    assert "没有待审批的延期申请" in exc.message


def test_a_second_extension_request_waits_for_the_first():
    exc = refused(OrderState(Status.accepted, extension_pending=True), Action.request_extension,
                  as_(Role.department_handler), FULL)
    assert exc.why is Why.guard
    assert "等待审批" in exc.message


def test_reporting_settles_a_pending_extension_request():
    outcome = decide(OrderState(Status.accepted, extension_pending=True), Action.report,
                     as_(Role.department_handler), {"report": "已修复"})
    assert outcome.status is Status.handled
    assert not outcome.after.extension_pending


def test_side_actions_keep_a_pending_extension_request():
    state = OrderState(Status.accepted, extension_pending=True)
    outcome = decide(state, Action.supervise, as_(Role.command_leader), {"response_due": "2026-12-01"})
    assert outcome.after == state


@pytest.mark.parametrize(("status", "word"), [(Status.closed, "已办结"), (Status.cancelled, "已作废")])
@pytest.mark.parametrize("action", list(Action), ids=str)
def test_a_finished_order_refuses_every_action_with_a_clear_message(status: Status, word: str, action: Action):
    exc = refused(OrderState(status, True, True, True), action, EVERYONE, FULL)
    assert exc.why is Why.final and exc.status_code == 409
    assert exc.message.startswith(f"工单{word}")


@pytest.mark.parametrize("action", [Action.merge, Action.cancel])
@pytest.mark.parametrize("status", [Status.dispatched, Status.accepted, Status.suspended, Status.handled,
                                    Status.verified])
def test_merge_and_cancel_only_before_a_department_takes_the_order(action: Action, status: Status):
    exc = refused(OrderState(status), action, as_(Role.dispatcher), FULL)
    assert exc.why is Why.status
    assert "待派遣、已退回" in exc.message


def test_only_the_grid_self_handles_and_only_its_own_patrol_reports():
    patrol = OrderState(Status.registered, grid_report=True)
    for role in (Role.grid_worker, Role.grid_chief):
        assert decide(patrol, Action.self_handle, as_(role), {"report": "已劝离"}).status is Status.closed
    for role in set(Role) - {Role.grid_worker, Role.grid_chief}:
        assert refused(patrol, Action.self_handle, as_(role), {"report": "已劝离"}).why is Why.role
    citizen_appeal = OrderState(Status.registered)
    exc = refused(citizen_appeal, Action.self_handle, as_(Role.grid_worker), {"report": "已劝离"})
    assert exc.why is Why.guard
    assert "巡查上报" in exc.message


def test_refusals_speak_the_callers_language():
    set_locale("en")
    try:
        exc = refused(OrderState(Status.closed), Action.sign, as_(Role.department_handler))
        assert exc.message.startswith("This order is closed; “Sign for”")
        exc = refused(OrderState(Status.dispatched), Action.return_, as_(Role.department_handler), {})
        assert exc.message == "“Return” still needs: reason"
    finally:
        set_locale("zh-CN")


# --- what to offer ---------------------------------------------------------------------------------------


def test_allowed_actions_offers_what_each_role_may_do_now():
    handler = as_(Role.department_handler)
    assert allowed_actions(OrderState(Status.dispatched), handler) == (Action.sign, Action.return_)
    assert allowed_actions(OrderState(Status.accepted), handler) == (Action.request_extension, Action.report)
    assert allowed_actions(OrderState(Status.accepted, extension_pending=True), handler) == (Action.report,)
    dispatcher = as_(Role.dispatcher)
    assert allowed_actions(OrderState(Status.verified), dispatcher) == (Action.close,)
    assert allowed_actions(OrderState(Status.verified, awaiting_review=True), dispatcher) == (
        Action.close_dissatisfied, Action.reopen)
    assert allowed_actions(OrderState(Status.registered), as_(Role.grid_worker)) == ()
    assert allowed_actions(OrderState(Status.registered, grid_report=True), as_(Role.grid_worker)) == (
        Action.self_handle,)


# --- walks through the loop ---------------------------------------------------------------------------------


Step = tuple[Action, Role, Mapping[str, object], Status]


def walk(state: OrderState, steps: list[Step]) -> list[Outcome]:
    outcomes = []
    for action, role, fields, expected in steps:
        outcome = decide(state, action, as_(role), fields)
        assert outcome.status is expected, (action, outcome.status)
        outcomes.append(outcome)
        state = outcome.after
    return outcomes


def test_the_happy_path_from_registration_to_a_satisfied_callback():
    outcomes = walk(OrderState(Status.registered), [
        (Action.dispatch, Role.dispatcher, {"department": 7}, Status.dispatched),
        (Action.sign, Role.department_handler, {}, Status.accepted),
        (Action.report, Role.department_handler, {"report": "已清运", "photos": ["after.jpg"]}, Status.handled),
        (Action.verify_pass, Role.grid_worker, {}, Status.verified),
        (Action.callback, Role.hotline_agent, {"rating": Rating.very_satisfied, "comment": "很及时"}, Status.closed),
    ])
    assert not any(o.rework for o in outcomes)
    assert outcomes[-1].after == OrderState(Status.closed)


def test_a_return_is_reviewed_before_re_dispatch():
    walk(OrderState(Status.registered), [
        (Action.dispatch, Role.hotline_agent, {"department": 7}, Status.dispatched),
        (Action.return_, Role.department_handler, {"reason": "不属于本部门职责"}, Status.returned),
        (Action.reject_return, Role.dispatcher, {"reason": "权责清单规定由本部门主办"}, Status.dispatched),
        (Action.return_, Role.department_handler, {"reason": "位置在邻镇"}, Status.returned),
        (Action.accept_return, Role.dispatcher, {}, Status.registered),
        (Action.dispatch, Role.dispatcher, {"department": 8}, Status.dispatched),
        (Action.sign, Role.department_handler, {}, Status.accepted),
    ])
    # and a returned order is not re-dispatched before its review
    exc = refused(OrderState(Status.returned), Action.dispatch, as_(Role.dispatcher), {"department": 8})
    assert exc.why is Why.status


def test_the_extension_path():
    outcomes = walk(OrderState(Status.accepted), [
        (Action.request_extension, Role.department_handler, {"reason": "需采购配件"}, Status.accepted),
        (Action.approve_extension, Role.dispatcher, {"extra": "3wd"}, Status.accepted),
        (Action.request_extension, Role.department_handler, {"reason": "配件仍未到货"}, Status.accepted),
        (Action.reject_extension, Role.command_leader, {"reason": "可先临时处置"}, Status.accepted),
        (Action.report, Role.department_handler, {"report": "已临时修复"}, Status.handled),
    ])
    assert [o.after.extension_pending for o in outcomes] == [True, False, True, False, False]


def test_suspension_stops_and_resumes_the_handling_clock():
    outcomes = walk(OrderState(Status.accepted), [
        (Action.suspend, Role.dispatcher, {"reason": "待法院判决"}, Status.suspended),
        (Action.supervise, Role.command_leader, {"response_due": "2026-12-01"}, Status.suspended),
        (Action.resume, Role.dispatcher, {}, Status.accepted),
    ])
    assert [o.clock for o in outcomes] == [Clock.stop, None, Clock.start]
    exc = refused(OrderState(Status.accepted), Action.suspend, as_(Role.department_handler), {"reason": "x"})
    assert exc.why is Why.role


def test_rework_by_failed_verification_and_by_a_dissatisfied_callback():
    outcomes = walk(OrderState(Status.handled), [
        (Action.verify_fail, Role.grid_chief, {"reason": "现场仍有积水"}, Status.accepted),
        (Action.report, Role.department_handler, {"report": "已疏通"}, Status.handled),
        (Action.verify_pass, Role.grid_worker, {}, Status.verified),
        (Action.callback, Role.citizen, {"rating": 2, "comment": "又堵了"}, Status.verified),
        (Action.reopen, Role.dispatcher, {"reason": "群众反映再次堵塞"}, Status.accepted),
        (Action.report, Role.department_handler, {"report": "更换管道"}, Status.handled),
        (Action.verify_pass, Role.dispatcher, {}, Status.verified),
        (Action.callback, Role.hotline_agent, {"rating": 5}, Status.closed),
    ])
    assert sum(o.rework for o in outcomes) == 2


def test_duplicates_merge_and_consultations_answer_without_dispatch():
    merged = walk(OrderState(Status.registered), [(Action.merge, Role.dispatcher, {"target": 42}, Status.cancelled)])
    assert refused(merged[-1].after, Action.dispatch, as_(Role.dispatcher), {"department": 7}).why is Why.final
    walk(OrderState(Status.registered), [
        (Action.answer, Role.hotline_agent, {"answer": "社保卡补办请携带身份证到街道便民服务中心"}, Status.closed),
    ])
    walk(OrderState(Status.registered), [
        (Action.escalate, Role.command_leader, {"reason": "跨区县，需市级协调"}, Status.registered),
        (Action.dispatch, Role.dispatcher, {"department": 3, "assisting": [4, 5]}, Status.dispatched),
        (Action.add_assist, Role.dispatcher, {"departments": [6]}, Status.dispatched),
        (Action.recall, Role.dispatcher, {"reason": "派错部门"}, Status.registered),
    ])
