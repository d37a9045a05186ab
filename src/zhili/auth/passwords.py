from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from zhili.config import get_settings
from zhili.kit.i18n import _


@lru_cache
def _hasher() -> PasswordHasher:
    s = get_settings()
    return PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_cost_kib)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_password_strength(password: str) -> str | None:
    if len(password) < 8:
        return _("密码至少 8 位")
    kinds = sum(
        [any(c.isdigit() for c in password), any(c.isalpha() for c in password),
         any(not c.isalnum() for c in password)]
    )
    if kinds < 2:
        return _("密码需包含字母、数字、符号中的至少两类")
    return None


# Verified against when the username is unknown, so that timing does not reveal which names exist.
def dummy_verify(password: str) -> None:
    verify_password(_dummy_hash(), password)


@lru_cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-0")
