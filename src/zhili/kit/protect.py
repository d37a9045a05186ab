"""Personal data at rest and on screen: sealed columns, blind indexes for exact search, masks.

Identity numbers and phones of residents, key persons, parties and petitioners are sealed with
AES-256-GCM before they reach the database (a random nonce per value, so equal numbers look different),
and an HMAC-SHA256 of the normalised value (the blind index) is stored beside them for exact search.
The key comes from ZHILI_DATA_KEY (32 bytes, base64); without it, it is derived from the secret key.
docs/privacy.md says how a production deployment keeps the key outside the database.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, TypeDecorator

from zhili.config import get_settings

PREFIX = "v1:"


@lru_cache(maxsize=4)
def _keys(secret: str, data_key: str | None) -> tuple[bytes, bytes]:
    """(sealing key, blind-index key): two keys, so that neither reveals the other."""
    if data_key:
        root = base64.b64decode(data_key)
    else:
        root = hashlib.sha256(b"zhili-personal-data:" + secret.encode()).digest()
    if len(root) != 32:
        raise ValueError("ZHILI_DATA_KEY must be 32 bytes, base64-encoded")
    seal = hmac.new(root, b"seal", hashlib.sha256).digest()
    index = hmac.new(root, b"blind-index", hashlib.sha256).digest()
    return seal, index


def _current_keys() -> tuple[bytes, bytes]:
    settings = get_settings()
    return _keys(settings.secret_key, settings.data_key)


def seal(plain: str) -> str:
    if plain == "":
        return ""
    nonce = os.urandom(12)
    box = AESGCM(_current_keys()[0]).encrypt(nonce, plain.encode(), None)
    return PREFIX + base64.b64encode(nonce + box).decode()


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # empty, or written before sealing existed
    raw = base64.b64decode(stored[len(PREFIX):])
    return AESGCM(_current_keys()[0]).decrypt(raw[:12], raw[12:], None).decode()


def blind_index(value: str) -> str:
    """The searchable stand-in for a sealed value: equal inputs give equal indexes, nothing else leaks."""
    value = value.strip().upper()
    if not value:
        return ""
    return hmac.new(_current_keys()[1], value.encode(), hashlib.sha256).hexdigest()[:40]


class Sealed(TypeDecorator[str]):
    """A string column stored sealed; Python code only ever sees the plain value."""

    impl = String(120)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else unseal(value)


def mask_id_number(value: str) -> str:
    """110105********123X: the region and the check digits stay, the birth date and sequence go."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """138****5678; a landline keeps its area code and last four."""
    digits = value.replace("-", "")
    if len(digits) < 7:
        return "*" * len(value)
    if "-" in value:
        area, _, number = value.partition("-")
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(value: str) -> str:
    """张*明 / 李*: shown where a list must not name people (exports without permission)."""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
