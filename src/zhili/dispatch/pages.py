"""The smart-dispatch pages: the classifier's versions and acceptance (admin), the repeat-caller report
and the hot issues of the period (the command centre)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.config import get_settings
from zhili.db import get_sessionmaker
from zhili.dispatch import hot_issues, hotspots, service
from zhili.idempotency import CommittingRoute
from zhili.models import ClassifierExample, ClassifierModel, ExampleSource, Role
from zhili.templating import render

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)
CSRF = [Depends(verify_csrf)]
CENTRE = (Role.admin, Role.dispatcher, Role.command_leader, Role.viewer)


@router.get("/admin/classifier")
def classifier_page(request: Request, subject: PageSubject, session: DbSession,
                    retrained: Annotated[int | None, Query(ge=0)] = None) -> Response:
    subject.require(*CENTRE)
    versions = list(session.scalars(select(ClassifierModel).order_by(ClassifierModel.version.desc()).limit(20)))
    counts = dict(session.execute(select(ClassifierExample.source, func.count())
                                  .group_by(ClassifierExample.source)).all())
    return render(request, "dispatch/classifier.html", {
        "versions": versions, "acceptance": service.acceptance(session, subject),
        "examples": {s.value: counts.get(s, 0) for s in ExampleSource}, "retrained": retrained,
        "threshold": get_settings().auto_dispatch_threshold, "hours": get_settings().classifier_retrain_hours,
        "can_retrain": subject.has(Role.admin),
    })


@router.post("/admin/classifier/retrain", dependencies=CSRF)
def retrain(subject: PageSubject) -> Response:
    """Train now instead of waiting for the schedule; the running version serves until the new one is stored."""
    subject.require(Role.admin)
    done = service.retrain(get_sessionmaker())
    return RedirectResponse(f"/admin/classifier?retrained={done.version if done else 0}", status_code=303)


@router.get("/reports/repeat-callers")
def repeat_callers_page(request: Request, subject: PageSubject, session: DbSession,
                        days: Annotated[int, Query(ge=1, le=366)] = service.REPEAT_DAYS,
                        at_least: Annotated[int, Query(ge=2, le=100)] = service.REPEAT_MIN) -> Response:
    subject.require(*CENTRE, Role.hotline_agent)
    rows: list[Any] = service.repeat_callers(session, subject, days=days, at_least=at_least)
    return render(request, "dispatch/repeat_callers.html", {"rows": rows, "days": days, "at_least": at_least})


@router.get("/hot-issues")
def hot_issues_page(request: Request, subject: PageSubject, session: DbSession,
                    days: Annotated[int, Query(ge=1, le=90)] = 7,
                    made: Annotated[int | None, Query(ge=1)] = None) -> Response:
    subject.require(*CENTRE)
    views = hot_issues.hot_issues(session, subject, days=days)
    return render(request, "dispatch/hot_issues.html", {
        "views": views, "days": days, "made": made, "can_task": subject.has(Role.command_leader),
        "weights": {"messages": hotspots.HEAT_MESSAGES, "callers": hotspots.HEAT_CALLERS,
                    "support": hotspots.HEAT_SUPPORT, "growth": hotspots.HEAT_GROWTH},
    })


@router.post("/hot-issues/task", dependencies=CSRF)
def hot_issue_task(subject: PageSubject, session: DbSession,
                   label: Annotated[str, Form(max_length=200)],
                   appeal_ids: Annotated[list[int], Form(max_length=500)],
                   heat: Annotated[float, Form(ge=0, le=1000)] = 0.0,
                   days: Annotated[int, Form(ge=1, le=90)] = 7) -> Response:
    """One click: the hot issue becomes a supervised task for the departments concerned."""
    issue = hot_issues.make_task(session, subject, appeal_ids, label, heat)
    return RedirectResponse(f"/hot-issues?days={days}&made={issue.task_order_id}", status_code=303)
