"""The extra fields a category asks for (its Open311 service definition), and the check of the values
an appeal brings for them. One place, used by every channel that files appeals."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.errors import FieldProblem
from zhili.kit.i18n import _
from zhili.models import AttributeType, Category, ServiceAttribute

LIST_TYPES = (AttributeType.singlevaluelist, AttributeType.multivaluelist)
MAX_VALUE_LENGTH = 2000


def attributes_of(session: Session, category: Category) -> list[ServiceAttribute]:
    return list(session.scalars(select(ServiceAttribute).where(ServiceAttribute.category_id == category.id)
                                .order_by(ServiceAttribute.order, ServiceAttribute.id)))


def check_attributes(session: Session, category: Category,
                     values: dict[str, str | list[str]]) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The values cleaned to their datatypes, and a problem for each missing, unknown or bad one.
    Field names follow Open311: attribute[CODE]."""
    definition = {a.code: a for a in attributes_of(session, category) if a.variable}
    problems: list[FieldProblem] = []
    clean: dict[str, Any] = {}
    for code in values:
        if code not in definition:
            known = "、".join(definition) or _("（无）")
            problems.append(FieldProblem(f"attribute[{code}]", _("分类「{c}」没有属性 {a}", c=category.name, a=code),
                                         expected=_("可用属性：{k}", k=known)))
    for code, attribute in definition.items():
        raw = values.get(code)
        empty = raw is None or raw == "" or raw == []
        if empty:
            if attribute.required:
                problems.append(FieldProblem(f"attribute[{code}]", _("必填：{q}", q=attribute.description)))
            continue
        value, problem = _clean(attribute, raw)  # type: ignore[arg-type]
        if problem:
            problems.append(FieldProblem(f"attribute[{code}]", problem,
                                         expected=attribute.datatype_description or _expected(attribute)))
        else:
            clean[code] = value
    return clean, problems


def _expected(attribute: ServiceAttribute) -> str:
    if attribute.datatype in LIST_TYPES:
        return _("取值之一：{v}", v="、".join(f"{v['key']}（{v['name']}）" for v in attribute.values))
    return {
        AttributeType.number: _("数字"),
        AttributeType.datetime: _("ISO 8601 时间，例如 2026-12-01T09:30:00+08:00"),
    }.get(attribute.datatype, "")


def _clean(attribute: ServiceAttribute, raw: str | list[str]) -> tuple[Any, str]:
    kind = attribute.datatype
    if kind == AttributeType.multivaluelist:
        items = raw if isinstance(raw, list) else [raw]
        keys = {str(v["key"]) for v in attribute.values}
        bad = [i for i in items if i not in keys]
        if bad:
            return None, _("不是可选值：{v}", v="、".join(bad))
        return list(dict.fromkeys(items)), ""
    if isinstance(raw, list):
        if len(raw) != 1:
            return None, _("只能填一个值")
        raw = raw[0]
    raw = raw.strip()
    if len(raw) > MAX_VALUE_LENGTH:
        return None, _("不能超过 {n} 个字符", n=MAX_VALUE_LENGTH)
    match kind:
        case AttributeType.singlevaluelist:
            if raw not in {str(v["key"]) for v in attribute.values}:
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
                moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                return None, _("应为 ISO 8601 时间：{v}", v=raw)
            return moment.isoformat(), ""
        case _:
            return raw, ""
