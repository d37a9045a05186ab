"""Use cases of petitions (信访, 信访工作条例 2022): registration of letters, visits and online
petitions; acceptance decided within 15 days of receipt; handling within 60 days of acceptance,
extended once by up to 30 with a leader's approval; a responsible leader (包案领导) per case; the
answer (处理意见), the petitioner's satisfaction and the close; leaders' reception days; repeat
petitioners and their key-person record. Every step appends a `CaseEvent`; services never commit."""

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from zhili.auth.subject import Subject
from zhili.casework import repository as repo
from zhili.casework.disputes import event_out
from zhili.casework.labels import (
    ACCEPT_DAYS,
    COLLECTIVE,
    EVENT_LABELS,
    HANDLE_DAYS,
    MAX_EXTENSION_DAYS,
    PETITION_STATUS_LABELS,
    colour,
    today,
)
from zhili.casework.schemas import (
    EarlierPetition,
    PetitionAction,
    PetitionActionIn,
    PetitionCreate,
    PetitionDetail,
    PetitionOut,
    ReceptionDayIn,
    ReceptionDayOut,
)
from zhili.errors import Conflict, FieldProblem, Invalid
from zhili.kit.codes import check_id_number, check_phone
from zhili.kit.i18n import _
from zhili.kit.protect import blind_index, mask_id_number, mask_phone
from zhili.kit.time import now
from zhili.models import CaseEvent, KeyPerson, KeyPersonKind, Petition, PetitionStatus, ReceptionDay, Risk, Role

CASE = "petition"
# The petition office: the command centres' staff; leaders approve extensions and take cases.
OFFICE = (Role.dispatcher, Role.command_leader, Role.admin)
LEADERS = (Role.command_leader, Role.viewer)
KEY_PERSON_VISIT_DAYS = 30
ALLOWED: dict[PetitionAction, tuple[PetitionStatus, ...]] = {
    PetitionAction.accept: (PetitionStatus.received,),
    PetitionAction.refuse: (PetitionStatus.received,),
    PetitionAction.set_leader: (PetitionStatus.received, PetitionStatus.accepted, PetitionStatus.answered),
    PetitionAction.extend: (PetitionStatus.accepted,),
    PetitionAction.answer: (PetitionStatus.accepted,),
    PetitionAction.close: (PetitionStatus.answered,),
    PetitionAction.schedule: (PetitionStatus.received, PetitionStatus.accepted, PetitionStatus.answered),
    PetitionAction.list_key_person: tuple(PetitionStatus),
}
ROLES: dict[PetitionAction, tuple[Role, ...]] = {PetitionAction.extend: (Role.command_leader,)}


def _event(session: Session, subject: Subject | None, p: Petition, action: str, note: str = "",
           **data: Any) -> None:
    session.add(CaseEvent(case=CASE, case_id=p.id, action=action, note=note, data=data,
                          staff_id=subject.id if subject and subject.kind == "staff" else None,
                          staff_name=subject.display_name if subject else ""))


def _area(session: Session, subject: Subject, code: str | None) -> str:
    if not code:
        if subject.grid_codes:
            return subject.grid_codes[0]
        raise Invalid(_("请选择信访事项所在的网格或社区（村）"), [FieldProblem("area_code", _("必填"))])
    if not code.startswith(subject.scope_prefix):
        raise Invalid(_("该网格或社区不在您的管辖范围内"), [FieldProblem("area_code", _("不在管辖范围内"))])
    if len(code) == 15 and repo.grid(session, code) is None:
        raise Invalid(_("网格 {c} 不存在", c=code), [FieldProblem("area_code", _("网格不存在"))])
    if len(code) == 12 and ((r := repo.region(session, code)) is None or r.level != "village"):
        raise Invalid(_("{c} 不是社区（村）区划代码", c=code),
                      [FieldProblem("area_code", _("应为网格或社区（村）代码"))])
    return code


def _leader(session: Session, subject: Subject, leader_id: int) -> Any:
    leader = repo.staff_member(session, subject, leader_id, *LEADERS)
    if leader is None:
        raise Invalid(_("包案领导应为本辖区的指挥长或领导"), [FieldProblem("leader_id", _("请选择包案领导"))])
    return leader


def register(session: Session, subject: Subject, data: PetitionCreate) -> tuple[Petition, bool]:
    """Registers a petition; a retried post (same `client_key`) answers the first one."""
    subject.require(*OFFICE)
    if data.client_key:
        earlier = repo.petition_by_client_key(session, subject, data.client_key)
        if earlier is not None:
            return earlier, False
    problems = []
    if data.id_number and (problem := check_id_number(data.id_number)):
        problems.append(FieldProblem("id_number", problem, "11010519491231002X"))
    if data.phone and (problem := check_phone(data.phone)):
        problems.append(FieldProblem("phone", problem, "13800138000"))
    day = today()
    received = data.received_on or day
    if received > day:
        problems.append(FieldProblem("received_on", _("收到日期不能晚于今天")))
    if problems:
        raise Invalid(problems[0].problem, problems)
    area_code = _area(session, subject, data.area_code)
    leader = _leader(session, subject, data.leader_id) if data.leader_id is not None else None
    number = data.id_number.upper()
    phone = data.phone.replace(" ", "")
    index = blind_index(number)
    resident = repo.resident_by_index(session, subject, index)
    p = Petition(
        code=f"new-{secrets.token_hex(6)}", form=data.form, petitioner_name=data.petitioner_name, id_number=number,
        id_number_index=index, phone=phone, phone_index=blind_index(phone), people_count=data.people_count,
        resident_id=resident.id if resident else None, title=data.title, content=data.content, received_on=received,
        status=PetitionStatus.received, accept_due_on=received + timedelta(days=ACCEPT_DAYS),
        leader_id=leader.id if leader else None, region_code=subject.region_code, area_code=area_code,
        registered_by_id=subject.id if subject.kind == "staff" else None, client_key=data.client_key)
    p.leader = leader
    session.add(p)
    session.flush()
    p.code = f"XF{now():%Y%m%d}{p.id:06d}"
    _event(session, subject, p, "register", data.title, form=data.form.value,
           accept_due_on=p.accept_due_on.isoformat(), leader=leader.display_name if leader else "")
    session.flush()
    return p, True


def allowed_actions(session: Session, subject: Subject, p: Petition) -> list[PetitionAction]:
    out = []
    for action, statuses in ALLOWED.items():
        if p.status not in statuses or not subject.has(*ROLES.get(action, OFFICE)):
            continue
        if action == PetitionAction.extend and p.extended_days:
            continue
        if action == PetitionAction.list_key_person and (
                p.resident_id is None or repo.petition_key_person(session, p.resident_id) is not None):
            continue
        out.append(action)
    return out


def _need(value: str, field: str, message: str) -> str:
    if not value.strip():
        raise Invalid(message, [FieldProblem(field, _("必填"))])
    return value.strip()


def act(session: Session, subject: Subject, petition_id: int, action: PetitionAction,
        data: PetitionActionIn) -> Petition:
    p = repo.petition(session, subject, petition_id, lock=True)
    subject.require(*ROLES.get(action, OFFICE))
    if p.status not in ALLOWED[action]:
        raise Conflict(_("信访件当前状态为「{s}」，不能{a}", s=_(PETITION_STATUS_LABELS[p.status]),
                         a=_(EVENT_LABELS[action.value])))
    day = today()
    match action:
        case PetitionAction.accept:
            if data.leader_id is not None:
                _set_leader(session, subject, p, data.leader_id)
            p.status, p.accepted_on = PetitionStatus.accepted, day
            p.handle_due_on = day + timedelta(days=HANDLE_DAYS)
            p.decision = data.reason or _("予以受理")
            late = day > p.accept_due_on
            _event(session, subject, p, "accept", p.decision, handle_due_on=p.handle_due_on.isoformat(), late=late)
        case PetitionAction.refuse:
            p.decision = _need(data.reason, "reason", _("不予受理须写明理由，并告知信访人应通过的途径"))
            p.status, p.closed_at = PetitionStatus.not_accepted, now()
            _event(session, subject, p, "refuse", p.decision)
        case PetitionAction.set_leader:
            if data.leader_id is None:
                raise Invalid(_("请选择包案领导"), [FieldProblem("leader_id", _("必填"))])
            _set_leader(session, subject, p, data.leader_id)
        case PetitionAction.extend:
            if p.extended_days:
                raise Conflict(_("办理期限只能延长一次"))
            if data.days is None:
                raise Invalid(_("请填写延期天数（1–{n} 日）", n=MAX_EXTENSION_DAYS), [FieldProblem("days", _("必填"))])
            reason = _need(data.reason, "reason", _("请写明延期理由"))
            assert p.handle_due_on is not None  # accepted cases always have one
            p.extended_days, p.extension_reason = data.days, reason
            p.extension_approved_by_id = subject.id
            p.handle_due_on = p.handle_due_on + timedelta(days=data.days)
            _event(session, subject, p, "extend", reason, days=data.days, handle_due_on=p.handle_due_on.isoformat())
        case PetitionAction.answer:
            p.answer = _need(data.answer, "answer", _("请填写处理意见"))
            p.status, p.answered_on = PetitionStatus.answered, day
            late = p.handle_due_on is not None and day > p.handle_due_on
            _event(session, subject, p, "answer", p.answer[:200], late=late)
        case PetitionAction.close:
            if data.satisfied is None:
                raise Invalid(_("请选择信访人是否满意"), [FieldProblem("satisfied", _("必填"))])
            p.satisfied, p.status, p.closed_at = data.satisfied, PetitionStatus.closed, now()
            _event(session, subject, p, "close", data.note, satisfied=data.satisfied)
        case PetitionAction.schedule:
            if data.reception_day_id is None:
                raise Invalid(_("请选择接访日"), [FieldProblem("reception_day_id", _("必填"))])
            day_row = repo.reception_day(session, subject, data.reception_day_id)
            if day_row.on < day:
                raise Invalid(_("接访日 {d} 已过，请选择今天或以后的接访日", d=day_row.on.isoformat()),
                              [FieldProblem("reception_day_id", _("接访日已过"))])
            p.reception_day_id = day_row.id
            if p.leader_id is None:
                p.leader_id, p.leader = day_row.leader_id, day_row.leader
            _event(session, subject, p, "schedule", data.note, on=day_row.on.isoformat(),
                   leader=day_row.leader.display_name, place=day_row.place)
        case PetitionAction.list_key_person:
            _list_key_person(session, subject, p)
    session.flush()
    return p


def _set_leader(session: Session, subject: Subject, p: Petition, leader_id: int) -> None:
    leader = _leader(session, subject, leader_id)
    p.leader_id, p.leader = leader.id, leader
    _event(session, subject, p, "set_leader", leader.display_name, leader_id=leader.id)


def _list_key_person(session: Session, subject: Subject, p: Petition) -> KeyPerson:
    """列为信访重点人员: creates the petition-kind key person of the petitioner's resident record."""
    if p.resident_id is None:
        raise Conflict(_("信访人不在实有人口中（身份证号未匹配），请先登记实有人口"))
    if repo.petition_key_person(session, p.resident_id) is not None:
        raise Conflict(_("该信访人已是信访重点人员"))
    resident = repo.resident(session, subject, p.resident_id)
    if resident is None:
        raise Conflict(_("信访人的实有人口记录不在您的管辖范围内"))
    kp = KeyPerson(resident_id=resident.id, kind=KeyPersonKind.petition, risk=Risk.yellow, since=today(),
                   details={"petition_codes": [p.code]}, note=_("由信访件 {c} 列管", c=p.code)[:500],
                   visit_due_on=today() + timedelta(days=KEY_PERSON_VISIT_DAYS),
                   area_code=resident.area_code, grid_id=resident.grid_id)
    session.add(kp)
    session.flush()
    _event(session, subject, p, "list_key_person", resident.name, key_person_id=kp.id)
    return kp


# Reception days ---------------------------------------------------------------------------------


def add_reception_day(session: Session, subject: Subject, data: ReceptionDayIn) -> ReceptionDay:
    subject.require(*OFFICE)
    leader = _leader(session, subject, data.leader_id)
    if data.on < today():
        raise Invalid(_("接访日不能早于今天"), [FieldProblem("on", _("不能早于今天"))])
    row = ReceptionDay(leader_id=leader.id, leader=leader, on=data.on, place=data.place, note=data.note,
                       region_code=subject.region_code)
    session.add(row)
    session.flush()
    return row


def reception_day_outs(session: Session, subject: Subject, days: list[ReceptionDay]) -> list[ReceptionDayOut]:
    cases: dict[int, list[PetitionOut]] = {}
    for p in repo.petitions_on_days(session, subject, [d.id for d in days]):
        cases.setdefault(p.reception_day_id or 0, []).append(petition_out(p))
    return [ReceptionDayOut(id=d.id, leader_id=d.leader_id, leader_name=d.leader.display_name, on=d.on,
                            place=d.place, region_code=d.region_code, note=d.note, petitions=cases.get(d.id, []))
            for d in days]


# Views ------------------------------------------------------------------------------------------


def due(p: Petition) -> tuple[Any, int]:
    """The clock that runs now: acceptance while received, handling while accepted."""
    if p.status == PetitionStatus.received:
        return p.accept_due_on, ACCEPT_DAYS
    if p.status == PetitionStatus.accepted:
        return p.handle_due_on, HANDLE_DAYS + p.extended_days
    return None, 0


def _out_fields(p: Petition, repeats: int = 0) -> dict[str, Any]:
    due_on, span = due(p)
    return dict(
        id=p.id, code=p.code, form=p.form, petitioner_name=p.petitioner_name, people_count=p.people_count,
        collective=p.people_count >= COLLECTIVE, title=p.title, received_on=p.received_on, status=p.status,
        accept_due_on=p.accept_due_on, handle_due_on=p.handle_due_on, due_on=due_on, colour=colour(due_on, span),
        overdue=due_on is not None and today() > due_on, leader_id=p.leader_id,
        leader_name=p.leader.display_name if p.leader else "", region_code=p.region_code, area_code=p.area_code,
        repeat_count=repeats)


def petition_out(p: Petition, repeats: int = 0) -> PetitionOut:
    return PetitionOut(**_out_fields(p, repeats))


def petition_detail(session: Session, subject: Subject, p: Petition) -> PetitionDetail:
    earlier = repo.earlier_petitions(session, subject, p)
    kp = repo.petition_key_person(session, p.resident_id)
    day = session.get(ReceptionDay, p.reception_day_id) if p.reception_day_id else None
    return PetitionDetail(
        **_out_fields(p, len(earlier)), id_number=mask_id_number(p.id_number) if p.id_number else "",
        phone=mask_phone(p.phone) if p.phone else "", content=p.content, accepted_on=p.accepted_on,
        extended_days=p.extended_days, extension_reason=p.extension_reason, decision=p.decision, answer=p.answer,
        answered_on=p.answered_on, satisfied=p.satisfied, closed_at=p.closed_at, resident_id=p.resident_id,
        key_person_id=kp.id if kp else None, reception_day_id=p.reception_day_id,
        reception_day=f"{day.on.isoformat()} {day.leader.display_name} · {day.place}" if day else "",
        earlier=[EarlierPetition(id=e.id, code=e.code, title=e.title, received_on=e.received_on, status=e.status)
                 for e in earlier],
        events=[event_out(e) for e in repo.events(session, CASE, p.id)],
        allowed_actions=allowed_actions(session, subject, p))
