"""Every query of the category domain."""

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, lazyload

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.kit.codes import subtree_prefix
from zhili.kit.i18n import _
from zhili.models import Category, CategoryDeadline, Department, Region, ResponsibilityRule


def categories(subject: Subject, *, parent_code: str | None = None, kind: str | None = None,
               q: str | None = None, active: bool | None = None, leaves_only: bool = False,
               roots_only: bool = False) -> Select[Any]:
    stmt = readable(subject, Category)
    if roots_only:
        stmt = stmt.where(Category.parent_id.is_(None))
    if parent_code:
        stmt = stmt.where(Category.parent_id == select(Category.id).where(Category.code == parent_code)
                          .scalar_subquery())
    if kind:
        stmt = stmt.where(Category.kind == kind)
    if active is not None:
        stmt = stmt.where(Category.active == active)
    if leaves_only:
        parents = select(Category.parent_id).where(Category.parent_id.is_not(None))
        stmt = stmt.where(Category.id.not_in(parents))
    if q and q.strip():
        text = q.strip()
        stmt = stmt.where(or_(Category.name.contains(text, autoescape=True),
                              Category.code.startswith(text, autoescape=True)))
    return stmt.order_by(Category.path)


def category(session: Session, subject: Subject, code: str) -> Category:
    return get_readable(session, subject, Category, Category.code == code, what=_("事项分类 {c}", c=code))


def category_by_code(session: Session, code: str) -> Category | None:
    return session.scalar(select(Category).where(Category.code == code))


def with_children(session: Session, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = session.scalars(select(Category.parent_id).where(Category.parent_id.in_(ids)).distinct())
    return {r for r in rows if r is not None}


def deadlines_of(session: Session, category_ids: list[int]) -> list[CategoryDeadline]:
    return list(session.scalars(select(CategoryDeadline).where(CategoryDeadline.category_id.in_(category_ids))))


def codes_of(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Category.id, Category.code).where(Category.id.in_(ids))).all())  # type: ignore[arg-type]


def count_categories(session: Session) -> int:
    return session.scalar(select(func.count(Category.id))) or 0


def rules(subject: Subject, *, category_code: str | None = None, region_code: str | None = None,
          department_id: int | None = None, active: bool | None = None) -> Select[Any]:
    stmt = readable(subject, ResponsibilityRule)
    if category_code:
        stmt = stmt.where(ResponsibilityRule.category_id == select(Category.id).where(
            Category.code == category_code).scalar_subquery())
    if region_code:
        stmt = stmt.where(Region.code.startswith(subtree_prefix(region_code), autoescape=True))
    if department_id:
        stmt = stmt.where(ResponsibilityRule.lead_department_id == department_id)
    if active is not None:
        stmt = stmt.where(ResponsibilityRule.active == active)
    return stmt.order_by(Region.code, ResponsibilityRule.id)


def rule(session: Session, subject: Subject, rule_id: int) -> ResponsibilityRule:
    return get_readable(session, subject, ResponsibilityRule, ResponsibilityRule.id == rule_id,
                        what=_("派单规则 #{id}", id=rule_id))


def candidate_rules(session: Session, category_ids: list[int], region_codes: list[str]) -> list[ResponsibilityRule]:
    """Unscoped on purpose: routing must see the whole responsibility list, whoever files the appeal."""
    return list(session.scalars(
        select(ResponsibilityRule).join(ResponsibilityRule.region).options(lazyload(ResponsibilityRule.assists))
        .where(ResponsibilityRule.category_id.in_(category_ids), Region.code.in_(region_codes),
               ResponsibilityRule.active.is_(True))
    ))


def department_by_code(session: Session, code: str) -> Department | None:
    return session.scalar(select(Department).where(Department.code == code))
