"""JSON API: tokens, the current subject, API keys and the audit log."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from zhili.access import get_readable, readable
from zhili.auth import service
from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, AuditOut, MeOut, TokenOut, TokenRequest
from zhili.auth.subject import Subject
from zhili.config import get_settings
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction.service import require_manages
from zhili.kit.i18n import _
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.models import ApiKey, Role

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["auth"])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


@router.post("/auth/token", response_model=TokenOut, summary="用户名和密码换取访问令牌")
def token(body: TokenRequest, request: Request, session: DbSession) -> TokenOut:
    staff = service.authenticate(session, body.username, body.password, client_ip(request))
    return TokenOut(access_token=service.issue_token(staff), expires_in=get_settings().token_ttl_seconds)


@router.get("/auth/me", response_model=MeOut)
def me(subject: ApiSubject) -> MeOut:
    return me_out(subject)


def me_out(subject: Subject) -> MeOut:
    return MeOut(kind=subject.kind, username=subject.name, display_name=subject.display_name,
                 roles=sorted(subject.roles), region_code=subject.region_code, region_name=subject.region_name,
                 department_id=subject.department_id, department_name=subject.department_name)


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(id=key.id, name=key.name, prefix=key.prefix, region_code=key.region.code,
                     region_name=key.region.name, roles=key.roles, channels=key.channels,
                     rate_limit=key.rate_limit, created_at=key.created_at,
                     last_used_at=key.last_used_at, revoked_at=key.revoked_at)


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_api_keys(subject: ApiSubject, session: DbSession,
                  params: Annotated[PageParams, Depends()]) -> Page[ApiKeyOut]:
    subject.require(Role.admin)
    rows, total = paginate(session, readable(subject, ApiKey).order_by(ApiKey.id.desc()), params)
    return Page.of([api_key_out(k) for k in rows], total, params)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def post_api_key(body: ApiKeyCreate, subject: ApiSubject, session: DbSession) -> ApiKeyCreated:
    key, plain = service.issue_api_key(session, subject, body.name, body.region_code, body.roles,
                                       body.channels, body.rate_limit)
    return ApiKeyCreated(**api_key_out(key).model_dump(), key=plain)


@router.get("/api-keys/{key_id}", response_model=ApiKeyOut)
def get_api_key(key_id: int, subject: ApiSubject, session: DbSession) -> ApiKeyOut:
    subject.require(Role.admin)
    return api_key_out(get_readable(session, subject, ApiKey, ApiKey.id == key_id, what=_("API 密钥 #{id}", id=key_id)))


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyOut)
def revoke_api_key(key_id: int, subject: ApiSubject, session: DbSession) -> ApiKeyOut:
    key = get_readable(session, subject, ApiKey, ApiKey.id == key_id, what=_("API 密钥 #{id}", id=key_id))
    require_manages(subject, key.region.code)
    return api_key_out(service.revoke_api_key(session, key, subject))


@router.get("/audit-log", response_model=Page[AuditOut])
def audit_log(
    subject: ApiSubject, session: DbSession, params: Annotated[PageParams, Depends()],
    action: Annotated[str | None, Query(max_length=50)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[AuditOut]:
    subject.require(Role.admin)
    stmt = service.audit_query(subject, action, actor)
    rows, total = paginate(session, stmt, params)
    return Page.of([AuditOut.model_validate(r, from_attributes=True) for r in rows], total, params)
