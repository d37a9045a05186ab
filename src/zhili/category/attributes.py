"""The extra fields a category leaf asks for (its Open311 service definition): keeping them, and checking
the values an appeal brings for them. One place, used by the admin API and pages, by the Open311 API and
by every channel that files appeals (work_order.service.file_appeal).

Attributes are numbered 1, 2, 3 … in the order shown; every write renumbers them, so `order` is always the
position. Codes never change once made: appeals keep their values under the code.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.auth import audit
from zhili.auth.subject import Subject
from zhili.category import repository as repo
from zhili.category.schemas import LIST_TYPES, AttributeCreate, AttributeIn, AttributeOut, AttributeValue
from zhili.category.service import require_catalogue_admin
from zhili.errors import Conflict, FieldProblem, NotFound
from zhili.kit.calendar import SHANGHAI
from zhili.kit.i18n import _
from zhili.models import AttributeType, Category, ServiceAttribute

MAX_VALUE_LENGTH = 2000


def attributes_of(session: Session, category: Category) -> list[ServiceAttribute]:
    return list(session.scalars(select(ServiceAttribute).where(ServiceAttribute.category_id == category.id)
                                .order_by(ServiceAttribute.order, ServiceAttribute.id)))


def attribute_out(attribute: ServiceAttribute) -> AttributeOut:
    return AttributeOut(variable=attribute.variable, code=attribute.code, datatype=attribute.datatype,
                        required=attribute.required, datatype_description=attribute.datatype_description,
                        order=attribute.order, description=attribute.description,
                        values=[AttributeValue.model_validate(v) for v in attribute.values])


# Keeping the definition ------------------------------------------------------------------------


def definition(session: Session, subject: Subject, category_code: str) -> list[ServiceAttribute]:
    return attributes_of(session, repo.category(session, subject, category_code))


def add_attribute(session: Session, category: Category, data: AttributeCreate) -> ServiceAttribute:
    """Adds without checks or audit: for the catalogue's seeds and for create_attribute."""
    rows = attributes_of(session, category)
    attribute = ServiceAttribute(category_id=category.id, code=data.code)
    _fill(attribute, data)
    session.add(attribute)
    _place(rows, attribute, data.order)
    session.flush()
    return attribute


def create_attribute(session: Session, subject: Subject, category_code: str,
                     data: AttributeCreate) -> ServiceAttribute:
    require_catalogue_admin(subject)
    category = _leaf(session, subject, category_code)
    if any(a.code == data.code for a in attributes_of(session, category)):
        raise Conflict(_("分类「{c}」已有属性 {a}，请修改那一项或换一个编码", c=category.name, a=data.code))
    attribute = add_attribute(session, category, data)
    _audit(session, subject, "category.attribute.create", category, attribute)
    return attribute


def update_attribute(session: Session, subject: Subject, category_code: str, attribute_code: str,
                     data: AttributeIn) -> ServiceAttribute:
    require_catalogue_admin(subject)
    category = _leaf(session, subject, category_code)
    rows = attributes_of(session, category)
    attribute = _find(category, rows, attribute_code)
    _fill(attribute, data)
    _place([a for a in rows if a is not attribute], attribute, data.order or attribute.order)
    session.flush()
    _audit(session, subject, "category.attribute.update", category, attribute)
    return attribute


def move_attribute(session: Session, subject: Subject, category_code: str, attribute_code: str,
                   position: int) -> ServiceAttribute:
    """Puts an attribute at `position` (1 first; beyond the end means last)."""
    require_catalogue_admin(subject)
    category = _leaf(session, subject, category_code)
    rows = attributes_of(session, category)
    attribute = _find(category, rows, attribute_code)
    _place([a for a in rows if a is not attribute], attribute, max(position, 1))
    session.flush()
    _audit(session, subject, "category.attribute.update", category, attribute)
    return attribute


def delete_attribute(session: Session, subject: Subject, category_code: str, attribute_code: str) -> None:
    """Appeals filed earlier keep their values; new ones are no longer asked for it."""
    require_catalogue_admin(subject)
    category = _leaf(session, subject, category_code)
    rows = attributes_of(session, category)
    attribute = _find(category, rows, attribute_code)
    session.delete(attribute)
    _place([a for a in rows if a is not attribute], None, None)
    session.flush()
    _audit(session, subject, "category.attribute.delete", category, attribute)


def _leaf(session: Session, subject: Subject, code: str) -> Category:
    category = repo.category(session, subject, code)
    if repo.with_children(session, [category.id]):
        raise Conflict(_("「{c}」有下级分类：属性只能设在叶子分类上（诉求都登记在叶子分类下）", c=category.name))
    return category


def _find(category: Category, rows: list[ServiceAttribute], code: str) -> ServiceAttribute:
    found = next((a for a in rows if a.code == code), None)
    if found is None:
        raise NotFound(_("分类「{c}」没有属性 {a}", c=category.name, a=code))
    return found


def _fill(attribute: ServiceAttribute, data: AttributeIn) -> None:
    attribute.datatype = data.datatype
    attribute.variable = data.variable
    attribute.required = data.required
    attribute.description = data.description
    attribute.datatype_description = data.datatype_description
    attribute.values = [v.model_dump() for v in data.values]


def _place(others: list[ServiceAttribute], attribute: ServiceAttribute | None, position: int | None) -> None:
    """Numbers the attributes 1…n, with `attribute` at `position` (None: last) among the `others`."""
    ordered = list(others)
    if attribute is not None:
        ordered.insert(len(ordered) if position is None else min(position - 1, len(ordered)), attribute)
    for number, row in enumerate(ordered, start=1):
        row.order = number


def _audit(session: Session, subject: Subject, action: str, category: Category, attribute: ServiceAttribute) -> None:
    audit.record(session, action, actor_id=subject.id, actor_name=subject.name, target_type="category",
                 target_id=category.code, region_code=subject.region_code, attribute=attribute.code)


# Checking an appeal's values -------------------------------------------------------------------


def check_attributes(session: Session, category: Category, values: dict[str, str | list[str]], *,
                     enforce_required: bool = True) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The values cleaned to their datatypes, and a problem for each missing, unknown or bad one.
    Field names follow Open311: attribute[CODE]. `enforce_required` is off for staff and the citizen
    form, whose pages do not ask for the attributes: what they do send is still checked."""
    return check_values(category, attributes_of(session, category), values, enforce_required=enforce_required)


def check_values(category: Category, attributes: list[ServiceAttribute], values: dict[str, str | list[str]], *,
                 enforce_required: bool) -> tuple[dict[str, Any], list[FieldProblem]]:
    """`check_attributes` with the category's attributes already at hand."""
    definition = {a.code: a for a in attributes if a.variable}
    informational = {a.code for a in attributes if not a.variable}
    problems: list[FieldProblem] = []
    clean: dict[str, Any] = {}
    for code in values:
        if code in informational:
            problems.append(FieldProblem(f"attribute[{code}]", _("属性 {a} 仅作说明，不接收取值", a=code)))
        elif code not in definition:
            known = _("、").join(definition) or _("（无）")
            problems.append(FieldProblem(f"attribute[{code}]", _("分类「{c}」没有属性 {a}", c=category.name, a=code),
                                         expected=_("可用属性：{k}", k=known)))
    for code, attribute in definition.items():
        raw = _given(values.get(code))
        if raw is None:
            if attribute.required and enforce_required:
                problems.append(FieldProblem(f"attribute[{code}]", _("必填：{q}", q=attribute.description)))
            continue
        value, problem = _clean(attribute, raw)
        if problem:
            problems.append(FieldProblem(f"attribute[{code}]", problem,
                                         expected=attribute.datatype_description or _expected(attribute)))
        else:
            clean[code] = value
    return clean, problems


def _given(raw: str | list[str] | None) -> str | list[str] | None:
    """The value without blanks (a form sends empty fields), or None when nothing is left."""
    if isinstance(raw, list):
        items = [i.strip() for i in raw if i.strip()]
        return items or None
    return raw.strip() if raw is not None and raw.strip() else None


def _expected(attribute: ServiceAttribute) -> str:
    if attribute.datatype in LIST_TYPES:
        return _("取值之一：{v}", v=_("、").join(f"{v['key']}（{v['name']}）" for v in attribute.values))
    return {
        AttributeType.number: _("数字"),
        AttributeType.datetime: _("ISO 8601 时间，例如 2026-12-01T09:30:00+08:00"),
    }.get(attribute.datatype, "")


def _clean(attribute: ServiceAttribute, raw: str | list[str]) -> tuple[Any, str]:
    kind = attribute.datatype
    keys = {str(v["key"]) for v in attribute.values}
    if kind == AttributeType.multivaluelist:
        items = raw if isinstance(raw, list) else [raw]
        bad = [i for i in items if i not in keys]
        if bad:
            return None, _("不是可选值：{v}", v=_("、").join(bad))
        return list(dict.fromkeys(items)), ""
    if isinstance(raw, list):
        if len(raw) != 1:
            return None, _("只能填一个值")
        raw = raw[0]
    if len(raw) > MAX_VALUE_LENGTH:
        return None, _("不能超过 {n} 个字符", n=MAX_VALUE_LENGTH)
    match kind:
        case AttributeType.singlevaluelist:
            if raw not in keys:
                return None, _("不是可选值：{v}", v=raw)
            return raw, ""
        case AttributeType.number:
            try:
                number = float(raw)
            except ValueError:
                return None, _("应为数字：{v}", v=raw)
            if number != number or number in (float("inf"), float("-inf")):
                return None, _("应为数字：{v}", v=raw)
            return int(number) if number.is_integer() and "." not in raw else number, ""
        case AttributeType.datetime:
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                return None, _("应为 ISO 8601 时间：{v}", v=raw)
            # Without an offset, the time is Beijing time (the platform's own).
            return (moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)).isoformat(), ""
        case _:
            return raw, ""
