"""The history of every base-data record (变更记录): who changed which fields when, old and new.

Other areas keep their own records' history here too (key persons): take `snapshot(row)` before a
change, change the row, then `record(...)`. Sealed fields (identity numbers, phones) are written
masked: the history must not become a second, unsealed copy of the personal data.
"""

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from zhili.access import readable
from zhili.auth.subject import Subject
from zhili.kit.protect import Sealed, mask_id_number, mask_phone
from zhili.models.basedata import Change, ChangeAction

# Columns that say nothing a person would read in a history (bookkeeping, or derived from another).
SKIPPED = frozenset({"id", "created_at", "updated_at"})


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _mask(column: str, value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    return mask_id_number(value) if "id_number" in column else mask_phone(value)


def snapshot(row: Any) -> dict[str, Any]:
    """The row's columns as JSON-friendly values, sealed ones masked, blind indexes left out."""
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        name = column.key
        if name in SKIPPED or name.endswith("_index"):
            continue
        value = _plain(getattr(row, name))
        out[name] = _mask(name, value) if isinstance(column.type, Sealed) else value
    return out


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list[Any]]:
    if before is None:
        return {k: [None, v] for k, v in after.items() if v not in (None, "", False)}
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record(session: Session, subject: Subject | None, entity: str, row: Any, before: dict[str, Any] | None,
           action: ChangeAction | str, *, extra: dict[str, list[Any]] | None = None) -> Change | None:
    """Append the history entry of one change to `row` (flushed, so that it has an id). `before` is the
    `snapshot` taken before the change (None for a creation). An update that changed nothing writes
    nothing and returns None. `extra` adds fields that are not columns (a merge names its source)."""
    session.flush()
    fields = diff(before, snapshot(row))
    fields.update(extra or {})
    action = ChangeAction(action)
    if not fields and action == ChangeAction.update:
        return None
    staff = subject is not None and subject.kind == "staff" and subject.id > 0
    change = Change(entity=entity, entity_id=row.id, action=action, fields=fields,
                    staff_id=subject.id if staff and subject is not None else None,
                    staff_name=subject.display_name if subject is not None else "",
                    area_code=getattr(row, "area_code", "") or "")
    session.add(change)
    return change


def history(subject: Subject, entity: str, entity_id: int) -> Select[Any]:
    """A record's history, newest first, as far as the subject's scope reaches (a record moved to
    another grid keeps its older entries there)."""
    return (readable(subject, Change).where(Change.entity == entity, Change.entity_id == entity_id)
            .order_by(Change.id.desc()))


def entries(session: Session, subject: Subject, entity: str, entity_id: int, limit: int = 200) -> list[Change]:
    return list(session.scalars(history(subject, entity, entity_id).limit(limit)))


__all__ = ["diff", "entries", "history", "record", "snapshot"]
