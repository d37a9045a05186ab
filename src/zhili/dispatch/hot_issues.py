"""Hot issues (热点问题) of a jurisdiction: its appeals of a period clustered by topic and place
(zhili.dispatch.hotspots), ranked by the heat index, and turned into a supervised task in one click."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from zhili.access import readable
from zhili.auth.subject import Subject
from zhili.dispatch import hotspots
from zhili.errors import Conflict, Invalid, NotFound
from zhili.jurisdiction import repository as jrepo
from zhili.kit.calendar import Limit, due
from zhili.kit.i18n import _
from zhili.kit.time import now
from zhili.models import Appeal, Department, HotIssue, WorkOrder
from zhili.work_order import service as orders

MAX_APPEALS = 20_000  # the appeals of one period that are clustered at most (the newest)
MIN_CALLERS = 2  # distinct callers that make a hot issue on the page
TASK_RESPONSE = "3wd"  # when a hot-issue task's supervision must be answered
SHOWN = 30


@dataclass(frozen=True)
class HotView:
    cluster: hotspots.Cluster
    appeals: list[Appeal]  # newest first
    trend: list[int]  # appeals per day over the period, oldest first
    place: str  # the region most of its appeals are in
    task: HotIssue | None  # the task it already became, if any


def hot_issues(session: Session, subject: Subject, days: int = 7, at: datetime | None = None) -> list[HotView]:
    """The hot issues of the last `days` days among the appeals the subject may read, hottest first."""
    at = at or now()
    since = at - timedelta(days=days)
    appeals = list(session.scalars(
        readable(subject, Appeal).where(Appeal.created_at >= since, Appeal.created_at <= at)
        .options(joinedload(Appeal.work_order)).order_by(Appeal.id.desc()).limit(MAX_APPEALS)).unique())
    by_id = {str(a.id): a for a in appeals}
    messages = [hotspots.Message(id=str(a.id), text=a.text, at=a.created_at, caller=a.caller_phone,
                                 title=a.work_order.title if a.work_order.title != a.text[:40] else "")
                for a in appeals]
    clusters = hotspots.cluster(messages, min_callers=MIN_CALLERS, as_of=at)[:SHOWN]
    tasks = _tasks_since(session, since)  # a task holding these appeals was made after the first of them
    names = _region_names(session, {a.region_code for a in appeals})
    views = []
    for c in clusters:
        members = sorted((by_id[i] for i in c.ids), key=lambda a: a.created_at, reverse=True)
        trend = [0] * days
        for a in members:
            trend[min(days - 1, max(0, (a.created_at - since).days))] += 1
        ids = {a.id for a in members}
        task = next((t for t in tasks if _covers(t, ids)), None)
        place = Counter(a.region_code for a in members).most_common(1)[0][0]
        views.append(HotView(cluster=c, appeals=members, trend=trend, place=names.get(place, place), task=task))
    return views


def _tasks_since(session: Session, since: datetime) -> list[HotIssue]:
    return list(session.scalars(select(HotIssue).where(HotIssue.created_at >= since,
                                                       HotIssue.task_order_id.is_not(None))))


def _covers(task: HotIssue, appeal_ids: set[int]) -> bool:
    """Whether a task made earlier is about this cluster: it holds most of its appeals."""
    return len(appeal_ids & set(task.appeal_ids)) * 2 > len(appeal_ids)


def _region_names(session: Session, codes: set[str]) -> dict[str, str]:
    return {r.code: r.name for r in jrepo.load_regions(session, codes)} if codes else {}


def make_task(session: Session, subject: Subject, appeal_ids: list[int], label: str, heat: float = 0.0) -> HotIssue:
    """Turn a hot issue into a supervised task for the departments concerned: the lead department most of
    its orders went to (else the one proposed for them), the others assisting, the most common category
    and place; its supervision is due in TASK_RESPONSE."""
    appeals = list(session.scalars(readable(subject, Appeal).where(Appeal.id.in_(appeal_ids))
                                   .options(joinedload(Appeal.work_order))).unique())
    if len(appeals) < 2:
        raise NotFound(_("热点问题的诉求不存在或不在您的管辖范围内"))
    if not label.strip():
        raise Invalid(_("请填写任务标题"))
    ids = {a.id for a in appeals}
    for earlier in _tasks_since(session, min(a.created_at for a in appeals)):
        if _covers(earlier, ids):
            raise Conflict(_("这个热点问题已转为督办任务（工单 {id}）", id=earlier.task_order_id))
    work = {a.work_order.id: a.work_order for a in appeals}.values()
    departments = Counter(_lead_of(o) for o in work if _lead_of(o) is not None)
    if not departments:
        raise Conflict(_("这些诉求还没有主办或建议部门：请先派遣其中的工单，或手工创建任务"))
    ranked = [session.get(Department, d) for d, _n in departments.most_common()]
    lead, assists = ranked[0], [d for d in ranked[1:5] if d is not None]
    assert lead is not None
    category = Counter(o.category for o in work if o.category is not None).most_common(1)
    place_code = Counter(o.place_code for o in work).most_common(1)[0][0]
    place = jrepo.region_by_code(session, place_code)
    assert place is not None
    callers = len({a.caller_phone or f"#{a.id}" for a in appeals})
    summary = _("{n} 条诉求（{c} 位来电人）反映同一问题，请牵头部门会同协办部门统一处置并按期回复督办。",
                n=len(appeals), c=callers)
    description = "\n".join([summary, *(f"· {a.tracking_code} {a.text[:80]}" for a in appeals[:20])])
    response_due = due(now(), Limit.parse(TASK_RESPONSE), orders.calendar(place))
    task = orders.open_task(session, subject, title=_("热点问题：{t}", t=label.strip()), description=description,
                            category=category[0][0] if category else None, place=place, lead=lead, assists=assists,
                            response_due=response_due)
    issue = HotIssue(label=label.strip()[:200], appeal_ids=sorted(ids), messages=len(appeals), callers=callers,
                     heat=heat, region_code=subject.region_code, task_order_id=task.id, created_by_id=subject.id)
    session.add(issue)
    session.flush()
    return issue


def _lead_of(order: WorkOrder) -> int | None:
    lead = orders.lead_assignment(order)
    return lead.department_id if lead is not None else order.suggested_department_id
