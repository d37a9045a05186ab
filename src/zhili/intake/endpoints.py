"""JSON API of the queued intake: what became of an appeal sent with `Prefer: respond-async`."""

from fastapi import APIRouter

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.idempotency import CommittingRoute
from zhili.intake import service
from zhili.intake.schemas import IntakeStatus

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["work orders"])


@router.get("/intake/{token}", response_model=IntakeStatus, summary="排队受理的诉求：是否已登记为工单")
def intake_status(token: str, subject: ApiSubject, session: DbSession) -> IntakeStatus:
    """Queued, filed (with its work order) or rejected (with why): for whoever sent it, and, once filed,
    for whoever may read its work order."""
    return service.status(session, subject, token)
