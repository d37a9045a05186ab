"""Logging in (with lock-out), bearer tokens, and API keys."""

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, defaultload, joinedload, lazyload

from zhili.access import readable
from zhili.auth import audit, ratelimit
from zhili.auth.passwords import dummy_verify, hash_password, needs_rehash, verify_password
from zhili.auth.subject import Subject, SubjectKind
from zhili.config import get_settings
from zhili.errors import AppError, FieldProblem, Invalid, Unauthorized
from zhili.kit.codes import RegionLevel, ancestor_codes
from zhili.kit.i18n import _
from zhili.kit.recent import Recent
from zhili.kit.time import aware, now
from zhili.models import ApiKey, AuditLog, Department, Region, Role, Staff, StaffRole

API_KEY_PREFIX = "zk_"
# Who a token or a key is, kept per process for a few seconds (zhili.kit.recent): a request then
# needs no query to know its subject. A change committed here (a role, a revoked key, a deactivated
# account) applies at once; in the other processes within the maps' ttl.
_TOKEN_SUBJECTS: Recent[Subject | None] = Recent("token subjects", (Staff, StaffRole, Region, Department))
_KEY_SUBJECTS: Recent[Subject] = Recent("API key subjects", (ApiKey, Region))


class LoginRefused(AppError):
    """A refused login still records the failed attempt and any lock-out: the request commits."""

    status_code = 401
    keep_changes = True


def subject_for_staff(staff: Staff) -> Subject:
    return Subject(
        kind=SubjectKind.staff,
        id=staff.id,
        name=staff.username,
        display_name=staff.display_name,
        roles=frozenset(staff.roles),
        region_id=staff.region_id,
        region_code=staff.region.code,
        region_level=RegionLevel(staff.region.level),
        region_name=staff.region.name,
        department_id=staff.department_id,
        department_name=staff.department.name if staff.department else None,
        ancestor_codes=ancestor_codes(staff.region.code),
        grid_codes=tuple(m.grid.code for m in staff.grid_memberships),
    )


def subject_for_api_key(key: ApiKey) -> Subject:
    return Subject(
        kind=SubjectKind.api_key,
        id=key.id,
        name=key.name,
        display_name=key.name,
        roles=frozenset(Role(r) for r in key.roles),
        region_id=key.region_id,
        region_code=key.region.code,
        region_level=RegionLevel(key.region.level),
        region_name=key.region.name,
        ancestor_codes=ancestor_codes(key.region.code),
        channels=tuple(key.channels or ()),
        rate_limit=key.rate_limit,
    )


def authenticate(session: Session, username: str, password: str, ip: str = "") -> Staff:
    settings = get_settings()
    staff = session.scalar(select(Staff).where(Staff.username == username.strip()))
    if staff is None or not staff.active:
        dummy_verify(password)
        audit.record(session, "login.failure", actor_id=None, actor_name=username[:100], ip=ip,
                     reason="unknown" if staff is None else "inactive")
        raise LoginRefused(_("用户名或密码错误"))
    region_code = staff.region.code
    locked_until = aware(staff.locked_until)
    if locked_until and locked_until > now():
        audit.record(session, "login.locked", actor_id=staff.id, actor_name=staff.username, ip=ip,
                     target_type="staff", target_id=staff.id, region_code=region_code)
        minutes = max(1, int((locked_until - now()).total_seconds() // 60) + 1)
        raise LoginRefused(
            _("账号因连续登录失败已被锁定，请在 {m} 分钟后再试，或请管理员解锁", m=minutes)
        )
    if not verify_password(staff.password_hash, password):
        staff.failed_logins += 1
        left = settings.login_max_failures - staff.failed_logins
        audit.record(session, "login.failure", actor_id=staff.id, actor_name=staff.username, ip=ip,
                     target_type="staff", target_id=staff.id, region_code=region_code,
                     reason="password", failed_logins=staff.failed_logins)
        if left <= 0:
            staff.locked_until = now() + timedelta(minutes=settings.login_lockout_minutes)
            staff.failed_logins = 0
            audit.record(session, "account.lock", actor_id=staff.id, actor_name=staff.username, ip=ip,
                         target_type="staff", target_id=staff.id, region_code=region_code,
                         minutes=settings.login_lockout_minutes)
            raise LoginRefused(
                _("密码连续错误 {n} 次，账号已锁定 {m} 分钟",
                  n=settings.login_max_failures, m=settings.login_lockout_minutes)
            )
        raise LoginRefused(_("用户名或密码错误（再错 {n} 次将锁定账号）", n=left))
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now()
    if needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    audit.record(session, "login.success", actor_id=staff.id, actor_name=staff.username, ip=ip,
                 target_type="staff", target_id=staff.id, region_code=region_code)
    return staff


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt="zhili.api-token")


def issue_token(staff: Staff) -> str:
    return str(_serializer().dumps({"s": staff.id, "v": staff.session_version}))


def staff_for_session(session: Session, staff_id: int, version: int) -> Staff | None:
    """The live account behind a session or token, or None if it was deactivated or its password changed."""
    # One query: the roles joined in, the grid memberships (not part of a Subject) left unloaded.
    staff = session.get(Staff, staff_id, options=[joinedload(Staff.role_rows), lazyload(Staff.grid_memberships),
                                                  defaultload(Staff.region).defer(Region.boundary)])
    if staff is None or not staff.active or staff.session_version != version:
        return None
    return staff


def api_key_subject(session: Session, plain: str) -> Subject:
    """The outside system behind a key, counted against its rate limit (TooManyRequests when over)."""
    subject = _KEY_SUBJECTS.get(_digest(plain), lambda: subject_for_api_key(verify_api_key(session, plain)))
    if subject.rate_limit is not None:
        ratelimit.hit(subject.id, subject.rate_limit)
    return subject


def known_bearer_subject(token: str) -> Subject | None:
    """The subject of a token or key if this process knows it and needs no query to be sure (a key with
    a rate limit counts in the database); else None. Raises for a token that is not valid."""
    if token.startswith(API_KEY_PREFIX):
        found, subject = _KEY_SUBJECTS.peek(_digest(token))
        return subject if found and subject is not None and subject.rate_limit is None else None
    staff_id, version = _token_claims(token)
    found, subject = _TOKEN_SUBJECTS.peek((staff_id, version))
    if found and subject is None:
        raise Unauthorized(_("账号已停用或密码已修改，请重新登录"))
    return subject


def _token_claims(token: str) -> tuple[int, int]:
    try:
        data = _serializer().loads(token, max_age=get_settings().token_ttl_seconds)
    except SignatureExpired as exc:
        raise Unauthorized(_("登录令牌已过期，请重新获取")) from exc
    except BadSignature as exc:
        raise Unauthorized(_("登录令牌无效")) from exc
    return int(data["s"]), int(data["v"])


def subject_from_bearer(session: Session, token: str) -> Subject:
    if token.startswith(API_KEY_PREFIX):
        return api_key_subject(session, token)
    staff_id, version = _token_claims(token)

    def load() -> Subject | None:
        staff = staff_for_session(session, staff_id, version)
        return subject_for_staff(staff) if staff is not None else None

    subject = _TOKEN_SUBJECTS.get((staff_id, version), load)
    if subject is None:
        raise Unauthorized(_("账号已停用或密码已修改，请重新登录"))
    return subject


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


DEFAULT_KEY_CHANNELS = ("open311",)


def create_api_key(
    session: Session, name: str, region: Region, roles: list[Role], created_by: Subject | None,
    channels: Sequence[str] = DEFAULT_KEY_CHANNELS, rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """Returns the row and the plain key, which is shown once and never stored. `channels`: what the
    outside system may file appeals as, its own channel first; `rate_limit`: requests a minute."""
    prefix = secrets.token_hex(6)
    plain = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=_digest(plain), region_id=region.id,
                 region=region, roles=[r.value for r in roles], channels=list(dict.fromkeys(channels)),
                 rate_limit=rate_limit,
                 created_by_id=created_by.id if created_by and created_by.kind == "staff" else None)
    session.add(key)
    session.flush()
    audit.record(session, "apikey.create", actor_id=key.created_by_id,
                 actor_name=created_by.name if created_by else "cli", target_type="api_key",
                 target_id=key.id, region_code=region.code, name=name, roles=key.roles, channels=key.channels,
                 rate_limit=rate_limit)
    return key, plain


def verify_api_key(session: Session, plain: str) -> ApiKey:
    parts = plain.split("_")
    if len(parts) < 3:
        raise Unauthorized(_("API 密钥格式不正确"))
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if key is None or not secrets.compare_digest(key.key_hash, _digest(plain)):
        raise Unauthorized(_("API 密钥无效"))
    if key.revoked_at is not None:
        raise Unauthorized(_("API 密钥已被吊销"))
    last = aware(key.last_used_at)
    if last is None or now() - last > timedelta(minutes=5):  # avoid a write on every request
        key.last_used_at = now()
    return key


def revoke_api_key(session: Session, key: ApiKey, by: Subject) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = now()
        audit.record(session, "apikey.revoke", actor_id=by.id if by.kind == "staff" else None,
                     actor_name=by.name, target_type="api_key", target_id=key.id,
                     region_code=key.region.code, name=key.name)
    return key



def issue_api_key(
    session: Session, subject: Subject, name: str, region_code: str | None, roles: list[Role],
    channels: Sequence[str] = DEFAULT_KEY_CHANNELS, rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """An admin issues a key for an outside system, scoped to a region inside the admin's own."""
    from zhili.jurisdiction.service import require_manages

    code = region_code or subject.region_code
    require_manages(subject, code)
    region = session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise Invalid(_("区划 {c} 不存在", c=code), [FieldProblem("region_code", _("区划不存在"))])
    return create_api_key(session, name, region, roles, subject, channels, rate_limit)


def audit_query(subject: Subject, action: str | None = None, actor: str | None = None) -> Select[Any]:
    stmt = readable(subject, AuditLog)
    if action:
        stmt = stmt.where(AuditLog.action.startswith(action, autoescape=True))
    if actor:
        stmt = stmt.where(AuditLog.actor_name == actor)
    return stmt.order_by(AuditLog.id.desc())
