from typing import Any

from sqlalchemy.orm import Session

from zhili.models import AuditLog


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    actor_name: str,
    target_type: str = "",
    target_id: str | int = "",
    region_code: str = "",
    ip: str = "",
    **detail: Any,
) -> AuditLog:
    row = AuditLog(
        action=action,
        actor_id=actor_id,
        actor_name=actor_name,
        target_type=target_type,
        target_id=str(target_id),
        region_code=region_code,
        ip=ip,
        detail=detail,
    )
    session.add(row)
    return row
