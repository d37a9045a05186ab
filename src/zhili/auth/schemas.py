from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from zhili.models import Channel, Role


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeOut(BaseModel):
    kind: str
    username: str
    display_name: str
    roles: list[Role]
    region_code: str
    region_name: str
    department_id: int | None
    department_name: str | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    region_code: str | None = None
    roles: list[Role] = Field(default_factory=lambda: [Role.citizen])
    channels: list[Channel] = Field(default_factory=lambda: [Channel.open311], max_length=10,
                                    description="channels it may file appeals as; the first is its own")
    rate_limit: int | None = Field(default=None, ge=1, le=1_000_000, description="requests a minute; empty: no limit")


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    region_code: str
    region_name: str
    roles: list[str]
    channels: list[str]
    rate_limit: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself: shown once, never stored. Send it as Authorization: Bearer <key>.")


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_name: str
    action: str
    target_type: str
    target_id: str
    region_code: str
    detail: dict[str, Any]
    ip: str
