"""The ONE place that turns a Subject into what it may read.

Every read made for a user starts from `readable(subject, Model)`. A model joins scoping by being
listed in `_SCOPES`; asking for an unlisted model is an error, never an unscoped read.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select

from zhili.auth.subject import Subject
from zhili.errors import NotFound
from zhili.kit.i18n import _
from zhili.models import (
    Activity,
    Address,
    ApiKey,
    Appeal,
    Assignment,
    Attachment,
    AuditLog,
    CalendarOverride,
    Campaign,
    CareWarning,
    Category,
    Change,
    Department,
    Dispute,
    Grid,
    House,
    HouseholdLink,
    KeyPerson,
    Notification,
    OrderEvent,
    Petition,
    Place,
    ReceptionDay,
    Region,
    Resident,
    ResponsibilityRule,
    Staff,
    Unit,
    Visit,
    VisitRule,
    Volunteer,
    VolunteerTeam,
    WorkOrder,
)
from zhili.models.staff import Role

M = TypeVar("M")


def in_subtree(subject: Subject, code_column: Any) -> ColumnElement[bool]:
    """Codes below the subject's region share its significant prefix (4/6/9/12 digits)."""
    return code_column.startswith(subject.scope_prefix, autoescape=True)  # type: ignore[no-any-return]


def in_area(subject: Subject, area_column: Any) -> ColumnElement[bool]:
    """Base data and casework (`area_code`: a grid's or a community's code): the subject's subtree,
    narrowed to its own grids for an account that only works grids."""
    if subject.grid_bound:
        return area_column.in_(subject.grid_codes)  # type: ignore[no-any-return]
    return in_subtree(subject, area_column)


def _by_area(model: Any) -> Callable[[Subject], Select[Any]]:
    return lambda subject: select(model).where(in_area(subject, model.area_code))


def _with_ancestors(model: Any) -> Callable[[Subject], Select[Any]]:
    """Rows of a region that also reach below it (a county campaign, a county leader's reception day)."""
    return lambda subject: select(model).where(or_(in_subtree(subject, model.region_code),
                                                   model.region_code.in_(subject.ancestor_codes)))


def _petitions(subject: Subject) -> Select[Any]:
    # The office handling a petition reads it, and so does the area the matter lies in.
    return select(Petition).where(or_(in_subtree(subject, Petition.region_code), in_area(subject, Petition.area_code)))


def _regions(subject: Subject) -> Select[Any]:
    return select(Region).where(in_subtree(subject, Region.code))


def _grids(subject: Subject) -> Select[Any]:
    return select(Grid).where(in_subtree(subject, Grid.code))


def _departments(subject: Subject) -> Select[Any]:
    stmt = select(Department).join(Department.region)
    if subject.department_id is not None:
        return stmt.where(Department.id == subject.department_id)
    # A town sees its own units and those above it that it hands work to, never a sibling town's.
    return stmt.where(or_(in_subtree(subject, Region.code), Region.code.in_(subject.ancestor_codes)))


def _staff(subject: Subject) -> Select[Any]:
    stmt = select(Staff).join(Staff.region).where(in_subtree(subject, Region.code))
    if subject.department_id is not None:
        stmt = stmt.where(Staff.department_id == subject.department_id)
    return stmt


def _api_keys(subject: Subject) -> Select[Any]:
    return select(ApiKey).join(ApiKey.region).where(in_subtree(subject, Region.code))


def _audit_log(subject: Subject) -> Select[Any]:
    return select(AuditLog).where(in_subtree(subject, AuditLog.region_code))


def _categories(subject: Subject) -> Select[Any]:
    return select(Category)  # deployment-wide configuration: every account reads the same tree


def _rules(subject: Subject) -> Select[Any]:
    stmt = select(ResponsibilityRule).join(ResponsibilityRule.region)
    if subject.department_id is not None:
        return stmt.where(ResponsibilityRule.lead_department_id == subject.department_id)
    # Like departments: a town sees its own rules and those above it that route its appeals.
    return stmt.where(or_(in_subtree(subject, Region.code), Region.code.in_(subject.ancestor_codes)))


def _work_orders(subject: Subject) -> Select[Any]:
    # An order is the area's if the matter lies in it, or if it sits on the area's command desk.
    stmt = select(WorkOrder).where(or_(in_subtree(subject, WorkOrder.place_code),
                                       in_subtree(subject, WorkOrder.region_code)))
    if subject.department_id is not None:
        assigned = select(Assignment.work_order_id).where(Assignment.department_id == subject.department_id)
        stmt = stmt.where(WorkOrder.id.in_(assigned))
    return stmt


def _appeals(subject: Subject) -> Select[Any]:
    return select(Appeal).where(Appeal.work_order_id.in_(_work_orders(subject).with_only_columns(WorkOrder.id)))


def _notifications(subject: Subject) -> Select[Any]:
    """Addressed to the account, to its department, or to its command desk (centre roles only)."""
    mine = [Notification.staff_id == subject.id]
    if subject.department_id is not None:
        mine.append(Notification.department_id == subject.department_id)
    if subject.has(Role.dispatcher, Role.command_leader):
        mine.append(Notification.region_code == subject.region_code)
    return select(Notification).where(or_(*mine))


def _attachments(subject: Subject) -> Select[Any]:
    """Readable with the order it belongs to; before that, by its uploader only."""
    orders = _work_orders(subject).with_only_columns(WorkOrder.id)
    readable_through_order: list[ColumnElement[bool]] = [
        Attachment.appeal_id.in_(select(Appeal.id).where(Appeal.work_order_id.in_(orders))),
        Attachment.event_id.in_(select(OrderEvent.id).where(OrderEvent.work_order_id.in_(orders))),
    ]
    if subject.kind == "staff":  # ids of API keys and staff overlap: only staff upload
        readable_through_order.append(Attachment.uploaded_by_id == subject.id)
    return select(Attachment).where(or_(*readable_through_order))


def _calendar_overrides(subject: Subject) -> Select[Any]:
    stmt = select(CalendarOverride).join(Region, Region.id == CalendarOverride.region_id)
    return stmt.where(or_(in_subtree(subject, Region.code), Region.code.in_(subject.ancestor_codes)))


_SCOPES: dict[type, Callable[[Subject], Select[Any]]] = {
    Region: _regions,
    Grid: _grids,
    Department: _departments,
    Staff: _staff,
    ApiKey: _api_keys,
    AuditLog: _audit_log,
    Category: _categories,
    ResponsibilityRule: _rules,
    WorkOrder: _work_orders,
    Appeal: _appeals,
    Notification: _notifications,
    Attachment: _attachments,
    CalendarOverride: _calendar_overrides,
    Address: _by_area(Address),
    House: _by_area(House),
    Resident: _by_area(Resident),
    Unit: _by_area(Unit),
    Place: _by_area(Place),
    Change: _by_area(Change),
    KeyPerson: _by_area(KeyPerson),
    CareWarning: _by_area(CareWarning),
    Visit: _by_area(Visit),
    VisitRule: lambda subject: select(VisitRule),  # deployment-wide configuration, like categories
    Campaign: _with_ancestors(Campaign),
    Dispute: _by_area(Dispute),
    Petition: _petitions,
    ReceptionDay: _with_ancestors(ReceptionDay),
    VolunteerTeam: _by_area(VolunteerTeam),
    Volunteer: _by_area(Volunteer),
    Activity: _by_area(Activity),
    HouseholdLink: _by_area(HouseholdLink),
}


def readable(subject: Subject, model: type[M]) -> Select[Any]:
    try:
        return _SCOPES[model](subject)
    except KeyError:
        raise LookupError(f"{model.__name__} has no scope rule in zhili.access") from None


def can_see_region(subject: Subject, code: str) -> bool:
    return code.startswith(subject.scope_prefix)


def get_readable(session: Any, subject: Subject, model: type[M], *where: Any, what: str = "") -> M:
    """One row the subject may read, or 404: rows outside the scope do not exist for it."""
    row = session.scalars(readable(subject, model).where(*where).limit(1)).unique().first()
    if row is None:
        raise NotFound(_("{what} 不存在或不在您的管辖范围内", what=what or _("记录")))
    return row  # type: ignore[no-any-return]
