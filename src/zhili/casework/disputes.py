"""Use cases of disputes (矛盾纠纷): registration, parties, assignment to a mediating body and a
mediator, sessions, agreement or failure, follow-up, escalation up the three levels, and the 民转刑
flag that notifies the police. Every step appends a `CaseEvent`; services never commit."""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from zhili.auth.subject import Subject
from zhili.casework import repository as repo
from zhili.casework.labels import DISPUTE_DAYS, DISPUTE_STATUS_LABELS, EVENT_LABELS, colour, today
from zhili.casework.schemas import (
    DisputeAction,
    DisputeActionIn,
    DisputeCreate,
    DisputeDetail,
    DisputeOut,
    EventOut,
    PartyIn,
    PartyOut,
    SessionOut,
)
from zhili.errors import Conflict, FieldProblem, Invalid
from zhili.kit.codes import check_id_number, check_phone
from zhili.kit.i18n import _
from zhili.kit.protect import blind_index, mask_id_number, mask_phone
from zhili.kit.time import now
from zhili.models import (
    CaseEvent,
    Department,
    Dispute,
    DisputeParty,
    DisputeStatus,
    MediationLevel,
    MediationSession,
    Notification,
    Role,
)

CASE = "dispute"
# Who registers a dispute, who works one, and who may raise the 民转刑 flag (anyone who saw it).
REGISTRARS = (Role.grid_worker, Role.grid_chief, Role.mediator, Role.dispatcher, Role.command_leader, Role.admin)
MEDIATORS = (Role.mediator, Role.grid_chief, Role.dispatcher, Role.command_leader, Role.admin)
FLAGGERS = (*REGISTRARS, Role.department_handler, Role.viewer)
FOLLOW_UP_DAYS = 7
OPEN = (DisputeStatus.registered, DisputeStatus.mediating)
ALLOWED: dict[DisputeAction, tuple[DisputeStatus, ...]] = {
    DisputeAction.assign: OPEN,
    DisputeAction.session: OPEN,
    DisputeAction.resolve: OPEN,
    DisputeAction.fail: OPEN,
    DisputeAction.escalate: (*OPEN, DisputeStatus.failed),
    DisputeAction.follow_up: (DisputeStatus.resolved, DisputeStatus.failed),
    DisputeAction.flag_risk: (*OPEN, DisputeStatus.failed, DisputeStatus.resolved),
    DisputeAction.clear_risk: tuple(DisputeStatus),
    DisputeAction.add_party: (*OPEN, DisputeStatus.failed, DisputeStatus.resolved),
}
ROLES: dict[DisputeAction, tuple[Role, ...]] = {
    DisputeAction.flag_risk: FLAGGERS, DisputeAction.add_party: REGISTRARS,
}
UP = {MediationLevel.village: MediationLevel.town, MediationLevel.town: MediationLevel.county}


@dataclass(frozen=True)
class Body:
    """A mediating body a case can be put before (化解组织)."""

    key: str  # village / town / police / county
    level: MediationLevel
    region_code: str
    name: str


def bodies(session: Session, area_code: str) -> list[Body]:
    community, town, county = area_code[:12], area_code[:9] + "000", area_code[:6] + "000000"
    names = {code: (r.name if (r := repo.region(session, code)) else code) for code in (community, town, county)}
    out = [Body("village", MediationLevel.village, community, _("{n}人民调解委员会", n=names[community])),
           Body("town", MediationLevel.town, town, _("{n}综治中心", n=names[town]))]
    police = repo.police_for(session, area_code)
    if police is not None and police.region.code == town:
        out.append(Body("police", MediationLevel.town, town, _("{n}调解室", n=police.name)))
    out.append(Body("county", MediationLevel.county, county, _("{n}矛盾纠纷调处化解中心", n=names[county])))
    return out


def _body(session: Session, area_code: str, key: str) -> Body:
    found = {b.key: b for b in bodies(session, area_code)}
    if key not in found:
        raise Invalid(_("请选择化解组织"), [FieldProblem("body", _("化解组织应为以下之一：{k}", k="、".join(
            f"{b.key}（{b.name}）" for b in found.values())))])
    return found[key]


def _event(session: Session, subject: Subject | None, d: Dispute, action: str, note: str = "",
           **data: Any) -> None:
    session.add(CaseEvent(case=CASE, case_id=d.id, action=action, note=note, data=data,
                          staff_id=subject.id if subject and subject.kind == "staff" else None,
                          staff_name=subject.display_name if subject else ""))


def check_party(p: PartyIn, field: str) -> list[FieldProblem]:
    problems = []
    if p.id_number and (problem := check_id_number(p.id_number)):
        problems.append(FieldProblem(f"{field}.id_number", problem, "11010519491231002X"))
    if p.phone and (problem := check_phone(p.phone)):
        problems.append(FieldProblem(f"{field}.phone", problem, "13800138000"))
    return problems


def _party(session: Session, subject: Subject, p: PartyIn) -> DisputeParty:
    number = p.id_number.upper()
    index = blind_index(number)
    resident = repo.resident_by_index(session, subject, index)
    return DisputeParty(name=p.name, id_number=number, id_number_index=index, phone=p.phone.replace(" ", ""),
                        side=p.side, resident_id=resident.id if resident else None)


def _area(session: Session, subject: Subject, data: DisputeCreate) -> tuple[str, int | None]:
    """Where the case lies: the grid or community given, else the grid of the point, else the grid
    worker's own grid. The subject must be able to see it."""
    code = data.area_code
    if code is None and data.lon is not None and data.lat is not None:
        from zhili.work_order.service import locate

        g = locate(session, data.lon, data.lat)
        code = g.code if g else None
    if code is None and subject.grid_codes:
        code = subject.grid_codes[0]
    if code is None:
        raise Invalid(_("请选择纠纷所在的网格或社区（村）"), [FieldProblem("area_code", _("必填"))])
    if subject.grid_bound and code not in subject.grid_codes:
        raise Invalid(_("只能登记本人网格内的纠纷"), [FieldProblem("area_code", _("不是您负责的网格"))])
    if not code.startswith(subject.scope_prefix):
        raise Invalid(_("该网格或社区不在您的管辖范围内"), [FieldProblem("area_code", _("不在管辖范围内"))])
    if len(code) == 15:
        g = repo.grid(session, code)
        if g is None:
            raise Invalid(_("网格 {c} 不存在", c=code), [FieldProblem("area_code", _("网格不存在"))])
        return code, g.id
    r = repo.region(session, code)
    if r is None or r.level != "village":
        raise Invalid(_("{c} 不是社区（村）区划代码", c=code),
                      [FieldProblem("area_code", _("应为网格或社区（村）代码"))])
    return code, None


def register(session: Session, subject: Subject, data: DisputeCreate) -> tuple[Dispute, bool]:
    """Registers a dispute; a retried post (same `client_key`) answers the first one, never a second.
    Returns (dispute, created)."""
    subject.require(*REGISTRARS)
    if data.client_key:
        earlier = repo.dispute_by_client_key(session, subject, data.client_key)
        if earlier is not None:
            return earlier, False
    problems = [p for i, party in enumerate(data.parties) for p in check_party(party, f"parties.{i}")]
    day = today()
    if data.occurred_on and data.occurred_on > day:
        problems.append(FieldProblem("occurred_on", _("发生日期不能晚于今天")))
    if data.deadline and data.deadline < day:
        problems.append(FieldProblem("deadline", _("化解时限不能早于今天")))
    if problems:
        raise Invalid(problems[0].problem, problems)
    area_code, grid_id = _area(session, subject, data)
    body = _body(session, area_code, "village")
    d = Dispute(
        code=f"new-{secrets.token_hex(6)}", name=data.name, occurred_on=data.occurred_on or day, place=data.place,
        lon=data.lon, lat=data.lat, scale=data.scale, category=data.category, people_count=data.people_count,
        summary=data.summary, deadline=data.deadline or day + timedelta(days=DISPUTE_DAYS[data.scale]),
        level=body.level, body=body.name, body_region_code=body.region_code, status=DisputeStatus.registered,
        area_code=area_code, grid_id=grid_id, registered_by_id=subject.id if subject.kind == "staff" else None,
        client_key=data.client_key, parties=[_party(session, subject, p) for p in data.parties])
    session.add(d)
    session.flush()
    d.code = f"MD{now():%Y%m%d}{d.id:06d}"
    _event(session, subject, d, "register", data.summary[:200], body=body.name, deadline=d.deadline.isoformat())
    session.flush()
    return d, True


def _need(value: str, field: str, message: str) -> str:
    if not value.strip():
        raise Invalid(message, [FieldProblem(field, _("必填"))])
    return value.strip()


def allowed_actions(subject: Subject, d: Dispute) -> list[DisputeAction]:
    out = []
    for action, statuses in ALLOWED.items():
        if d.status not in statuses or not subject.has(*ROLES.get(action, MEDIATORS)):
            continue
        if action == DisputeAction.escalate and d.level == MediationLevel.county:
            continue
        if action == DisputeAction.flag_risk and d.criminal_risk:
            continue
        if action == DisputeAction.clear_risk and not d.criminal_risk:
            continue
        out.append(action)
    return out


def act(session: Session, subject: Subject, dispute_id: int, action: DisputeAction, data: DisputeActionIn) -> Dispute:
    """One step on a case: locks the row, checks the status allows it, changes it, logs it."""
    d = repo.dispute(session, subject, dispute_id, lock=True)
    subject.require(*ROLES.get(action, MEDIATORS))
    if d.status not in ALLOWED[action]:
        raise Conflict(_("纠纷当前状态为「{s}」，不能{a}", s=_(DISPUTE_STATUS_LABELS[d.status]),
                         a=_(EVENT_LABELS[action.value])))
    match action:
        case DisputeAction.assign:
            _assign(session, subject, d, data)
        case DisputeAction.session:
            record = _need(data.record, "record", _("请填写调解记录"))
            d.sessions.append(MediationSession(at=now(), mediator_id=subject.id, mediator_name=subject.display_name,
                                               attendees=data.attendees, record=record))
            d.status = DisputeStatus.mediating
            _event(session, subject, d, "session", record[:200], attendees=data.attendees)
        case DisputeAction.resolve:
            d.agreement = _need(data.agreement, "agreement", _("请填写调解协议内容"))
            d.outcome = data.outcome or d.agreement
            d.method = data.method or d.method or _("人民调解")
            d.success, d.status = True, DisputeStatus.resolved
            d.follow_up_on = today() + timedelta(days=FOLLOW_UP_DAYS)
            _event(session, subject, d, "resolve", d.agreement[:200], method=d.method)
        case DisputeAction.fail:
            d.outcome = _need(data.outcome or data.reason, "outcome", _("请写明调解不成的原因和去向（如引导诉讼）"))
            d.method = data.method or d.method
            d.success, d.status = False, DisputeStatus.failed
            d.follow_up_on = today() + timedelta(days=FOLLOW_UP_DAYS)
            _event(session, subject, d, "fail", d.outcome[:200])
        case DisputeAction.follow_up:
            note = _need(data.note, "note", _("请填写回访情况"))
            d.assessment = data.assessment
            d.followed_up_at = d.closed_at = now()
            d.status = DisputeStatus.closed
            _event(session, subject, d, "follow_up", note, assessment=data.assessment)
        case DisputeAction.escalate:
            _escalate(session, subject, d, data)
        case DisputeAction.flag_risk:
            _flag(session, subject, d, _need(data.note or data.reason, "note", _("请写明民转刑风险的情况")))
        case DisputeAction.clear_risk:
            note = _need(data.note or data.reason, "note", _("请写明解除风险的理由"))
            d.criminal_risk = False
            _event(session, subject, d, "clear_risk", note)
        case DisputeAction.add_party:
            if data.party is None:
                raise Invalid(_("请填写当事人"), [FieldProblem("party.name", _("必填"))])
            problems = check_party(data.party, "party")
            if problems:
                raise Invalid(problems[0].problem, problems)
            party = _party(session, subject, data.party)
            d.parties.append(party)
            _event(session, subject, d, "add_party", party.name, side=party.side)
    session.flush()
    return d


def _assign(session: Session, subject: Subject, d: Dispute, data: DisputeActionIn) -> None:
    body = _body(session, d.area_code, data.body or "")
    mediator = None
    if data.mediator_id is not None:
        mediator = repo.staff_member(session, subject, data.mediator_id, Role.mediator)
        if mediator is None:
            raise Invalid(_("调解员不存在或不在您的管辖范围内"), [FieldProblem("mediator_id", _("请选择调解员"))])
    d.level, d.body, d.body_region_code = body.level, body.name, body.region_code
    d.mediator_id = mediator.id if mediator else None
    d.mediator = mediator
    d.method = data.method or d.method
    d.status = DisputeStatus.mediating
    _event(session, subject, d, "assign", data.note, body=body.name,
           mediator=mediator.display_name if mediator else "")


def _escalate(session: Session, subject: Subject, d: Dispute, data: DisputeActionIn) -> None:
    reason = _need(data.reason or data.note, "reason", _("请写明上报的理由"))
    up = UP.get(d.level)
    if up is None:
        raise Conflict(_("已在县级调处化解中心，不能再上报"))
    target = next(b for b in bodies(session, d.area_code) if b.level == up and b.key != "police")
    before = d.level
    d.level, d.body, d.body_region_code = target.level, target.name, target.region_code
    d.mediator_id, d.mediator = None, None
    d.status = DisputeStatus.registered
    d.deadline = max(d.deadline, today() + timedelta(days=DISPUTE_DAYS[d.scale]))
    _event(session, subject, d, "escalate", reason, from_level=before.value, to_level=up.value, body=target.name,
           deadline=d.deadline.isoformat())


def _flag(session: Session, subject: Subject, d: Dispute, note: str) -> None:
    police = notify_risk(session, d, note)
    _event(session, subject, d, "flag_risk", note, police=police.name if police else "")


def notify_risk(session: Session, d: Dispute, note: str) -> Department | None:
    """民转刑: the case is marked and the area's police (and the town's command desk) are told in the
    same transaction, so the flag and the notices exist together or not at all."""
    d.criminal_risk, d.criminal_risk_note = True, note[:500]
    police = repo.police_for(session, d.area_code)
    title = _("民转刑风险：{n}", n=d.name)[:200]
    body = _("纠纷 {c}（{p}）有激化为刑事案件的风险：{note}", c=d.code, p=d.place, note=note)[:1000]
    url = f"/disputes/{d.id}"
    if police is not None:
        session.add(Notification(department_id=police.id, title=title, body=body, url=url))
    session.add(Notification(region_code=d.area_code[:9] + "000", title=title, body=body, url=url))
    return police


# Views ------------------------------------------------------------------------------------------


def dispute_out(d: Dispute) -> DisputeOut:
    return DisputeOut(**_out_fields(d))


def _out_fields(d: Dispute) -> dict[str, Any]:
    open_ = d.status in OPEN
    span = DISPUTE_DAYS[d.scale]
    return dict(
        id=d.id, code=d.code, name=d.name, occurred_on=d.occurred_on, place=d.place, scale=d.scale,
        category=d.category, people_count=d.people_count, deadline=d.deadline,
        overdue=open_ and d.deadline < today(), colour=colour(d.deadline, span) if open_ else "",
        level=d.level, body=d.body, body_region_code=d.body_region_code, mediator_id=d.mediator_id,
        mediator_name=d.mediator.display_name if d.mediator else "", status=d.status, success=d.success,
        criminal_risk=d.criminal_risk, area_code=d.area_code, created_at=d.created_at)


def event_out(e: CaseEvent) -> EventOut:
    return EventOut(action=e.action, label=_(EVENT_LABELS.get(e.action, e.action)), note=e.note,
                    staff_name=e.staff_name, at=e.at, data=dict(e.data or {}))


def dispute_detail(session: Session, subject: Subject, d: Dispute) -> DisputeDetail:
    return DisputeDetail(
        **_out_fields(d), summary=d.summary, method=d.method, outcome=d.outcome, agreement=d.agreement,
        assessment=d.assessment, criminal_risk_note=d.criminal_risk_note, follow_up_on=d.follow_up_on,
        followed_up_at=d.followed_up_at, closed_at=d.closed_at, lon=d.lon, lat=d.lat,
        parties=[PartyOut(id=p.id, name=p.name, id_number=mask_id_number(p.id_number) if p.id_number else "",
                          phone=mask_phone(p.phone) if p.phone else "", side=p.side, resident_id=p.resident_id)
                 for p in d.parties],
        sessions=[SessionOut(at=s.at, mediator_name=s.mediator_name, attendees=s.attendees, record=s.record)
                  for s in d.sessions],
        events=[event_out(e) for e in repo.events(session, CASE, d.id)],
        allowed_actions=allowed_actions(subject, d))

