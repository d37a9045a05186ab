"""The Chinese names of channels, urgencies and statuses, as files are written and read: an export
shows them, and an import accepts them (as well as the stored values and the English names)."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, TypeVar

from zhili.kit import i18n
from zhili.kit.i18n import N_
from zhili.models import Channel, OrderStatus, Urgency
from zhili.work_order.workflow import CHANNEL_LABELS, STATUS_LABELS

E = TypeVar("E", bound=StrEnum)

URGENCY_LABELS: Final = {Urgency.normal: N_("一般"), Urgency.urgent: N_("紧急"), Urgency.critical: N_("特急")}
# Other names people give the same thing in old systems' exports.
CHANNEL_SYNONYMS: Final = {"热线": Channel.hotline, "12345": Channel.hotline, "电话": Channel.hotline,
                           "app": Channel.mobile, "小程序": Channel.mobile, "网格": Channel.grid}
STATUS_SYNONYMS: Final = {"办结": OrderStatus.closed, "已结案": OrderStatus.closed, "作废": OrderStatus.cancelled}


def _key(text: str) -> str:
    return "".join(text.split()).lower()


def names_of(labels: Mapping[E, str], synonyms: Mapping[str, E] | None = None) -> dict[str, E]:
    """Every accepted spelling → member: the value, the Chinese label, its English translation."""
    english = i18n._catalog("en")
    out: dict[str, E] = {_key(k): v for k, v in (synonyms or {}).items()}
    for member, label in labels.items():
        for name in (member.value, label, english.get(label, "")):
            if name:
                out[_key(name)] = member
    return out


CHANNEL_NAMES: Final = names_of(CHANNEL_LABELS, CHANNEL_SYNONYMS)
URGENCY_NAMES: Final = names_of(URGENCY_LABELS)
STATUS_NAMES: Final = names_of(STATUS_LABELS, STATUS_SYNONYMS)


def lookup(names: Mapping[str, E], text: str) -> E | None:
    return names.get(_key(text))
