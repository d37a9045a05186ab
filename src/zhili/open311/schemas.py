"""What Open311 clients send: the arguments of POST requests and of GET requests, by the spec's names.

Form and query values arrive as text; blank optional values count as absent. The checks here are the
ones a field can make alone; the service checks what needs the database or several fields (a place).
"""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from zhili.kit.calendar import SHANGHAI
from zhili.kit.i18n import N_, _

# A bracketed attribute field of a POST: attribute[CODE], or attribute[CODE][] for a multivaluelist.
ATTRIBUTE_FIELD = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
MAX_IDS = 1000  # as many as one answer holds


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _w3c_datetime(value: Any) -> Any:
    """W3C datetimes (2026-11-01T08:00:00+08:00, …Z, or a date); without an offset, Beijing time. A `+`
    left unencoded in a query string arrives as a space, so " 08:00" at the end is read as "+08:00"."""
    if not isinstance(value, str) or not value.strip():
        return _blank_to_none(value)
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(_("应为 W3C 日期时间，例如 2026-11-01T00:00:00+08:00 或 2026-11-01T00:00:00Z")) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _statuses(value: list[str]) -> list[str]:
    if any(s not in ("open", "closed") for s in value):
        raise ValueError(_("只能是 open 或 closed（多个用逗号分隔）"))
    return value


def _matching(pattern: str, message: str) -> AfterValidator:
    """A pattern with a message said in the caller's language (`message` is marked with N_)."""

    def check(value: str) -> str:
        if value and not re.fullmatch(pattern, value):
            raise ValueError(_(message))
        return value

    return AfterValidator(check)


Optional = Annotated[float | None, BeforeValidator(_blank_to_none)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
When = Annotated[datetime | None, BeforeValidator(_w3c_datetime)]
Codes = Annotated[list[Annotated[str, StringConstraints(max_length=30)]], BeforeValidator(_comma_list),
                  Field(max_length=MAX_IDS)]


class ServiceRequestIn(BaseModel):
    """POST requests: the spec's arguments (api_key is the caller's identity, read apart)."""

    model_config = ConfigDict(extra="ignore")
    jurisdiction_id: Short = ""
    service_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
    lat: Annotated[Optional, Field(ge=-90, le=90)] = None
    long: Annotated[Optional, Field(ge=-180, le=180)] = None
    address_string: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    address_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=15),
                          _matching(r"\d{12}|\d{15}", N_("应为 12 位区划代码或 15 位网格编码"))] = ""
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100),
                     _matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", N_("邮箱地址格式不正确"))] = ""
    device_id: Short = ""
    account_id: Short = ""
    first_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=25)] = ""
    last_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=25)] = ""
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = ""
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    media_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500),
                         _matching(r"https?://\S+", N_("应为 http:// 或 https:// 开头的网址"))] = ""
    attribute: dict[str, str | list[str]] = Field(default_factory=dict, max_length=50)


class RequestsQuery(BaseModel):
    """GET requests. With service_request_id the other filters are ignored, as the spec says."""

    model_config = ConfigDict(extra="ignore")
    service_request_id: Codes = Field(default_factory=list)
    service_code: Codes = Field(default_factory=list)
    start_date: When = None
    end_date: When = None
    status: Annotated[list[str], BeforeValidator(_comma_list), AfterValidator(_statuses)] = Field(
        default_factory=list)


def form_values(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """The fields of a POST as ServiceRequestIn reads them: attribute[CODE] and attribute[CODE][]
    gathered under `attribute` (the latter as a list); any other repeated field keeps its last value."""
    values: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, value in items:
        match = ATTRIBUTE_FIELD.match(name)
        if match is None:
            values[name] = value
        elif match.group(2):
            listed = attributes.get(match.group(1))
            attributes[match.group(1)] = [*listed, value] if isinstance(listed, list) else [value]
        else:
            attributes[match.group(1)] = value
    if attributes:
        values["attribute"] = attributes
    return values
