"""Probable duplicates (重复诉求): the open orders an incoming appeal seems to repeat, for the dispatcher to
merge. Pure: the caller selects the open orders of the period around the appeal (those near it and those
from the same phone) and passes them in; nothing here reads the database or the clock.

A candidate is suggested when it lies within the time window of the appeal, its text is similar
(`similarity` at least MIN_SIMILARITY), it is
- near: the same grid, within `radius_m` of the appeal's point, or, when one of the two has no point,
  the same community (`place_code`) or the same written address;
- or from the same phone number, wherever it is;
and its score reaches `threshold`:

    score = W_TEXT · min(1, similarity / SAME_TEXT) + W_NEAR · nearness + W_PHONE · same phone
            + W_RECENT · (1 − age / window)

nearness is 1 at the same point, falling to 0.5 at `radius_m`; NEAR_SAME_GRID for the same grid,
NEAR_SAME_PLACE for the same community or address without points (the largest that applies). The weights
add up to 1, so the score lies in [0, 1]; with the defaults a barely similar text (0.25) needs the same
grid or phone and a few days at most, a clearly similar one (0.5) passes anywhere near within the week.
"""

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from zhili.dispatch.text import tokenize

W_TEXT = 0.55
W_NEAR = 0.2
W_PHONE = 0.15
W_RECENT = 0.1
DEFAULT_THRESHOLD = 0.45

# Measured on the 2,789 real messages of teddy2020c (unlabeled_messages.csv): 99.9 % of unrelated pairs
# score below 0.17; the same matter written again, by the same or another citizen, 0.24 to 0.99; another
# matter at the same compound or hospital 0.09 to 0.21.
MIN_SIMILARITY = 0.25
SAME_TEXT = 0.5  # from here on the text counts fully

NEAR_SAME_GRID = 0.8
NEAR_SAME_PLACE = 0.6
MIN_PHONE_DIGITS = 7  # shorter numbers are service lines (12345, 110) or typing slips, shared by strangers
MIN_ADDRESS = 4
EARTH_RADIUS_M = 6_371_008.8

# Words that every appeal carries (courtesies, function words): they would make any two texts alike.
_STOP_WORDS = """
    的 了 是 在 和 与 及 或 我 我们 你 您 他 她 它 他们 这 那 这个 那个 有 也 都 就 还 又 很 被 把 对 给 从 到
    为 以 之 等 着 过 吗 呢 吧 啊 呀 请 请问 尊敬 领导 您好 你好 谢谢 感谢 希望 问题 反映 相关 有关 部门 政府
    一个 什么 怎么 如何 为什么 没有 不 要 会 能 可以 已经 现在
"""
_STOP = frozenset(_STOP_WORDS.split())
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_NOT_ADDRESS = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class Candidate:
    id: int
    text: str
    at: datetime
    lon: float | None = None
    lat: float | None = None
    grid_code: str | None = None
    place_code: str = ""  # the community (村/社区) code; a town's or county's code does not count as near
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    score: float
    reasons: tuple[str, ...]  # for the dispatcher: "同一网格", "相距 120 米", "内容相似 0.82", …


@lru_cache(maxsize=4096)
def _vector(text: str) -> tuple[dict[str, float], float]:
    """Weights 1 + ln(count) of the words and of the character bigrams, and the vector's length.
    Words carry the meaning; bigrams catch what segmentation splits differently (物业费 / 物业 费) and
    names jieba does not know. Cached by text: one open order is compared with many appeals."""
    counts: Counter[str] = Counter("w" + w for w in tokenize(text) if w not in _STOP)
    for run in _HAN_RUN.findall(text):
        counts.update("b" + run[i : i + 2] for i in range(len(run) - 1))
    weights = {key: 1.0 + math.log(n) for key, n in counts.items()}
    return weights, math.sqrt(sum(w * w for w in weights.values()))


def similarity(a: str, b: str) -> float:
    """How alike two appeal texts are, in [0, 1]: the cosine of their word-and-bigram vectors (see
    `_vector`). No inverse document frequency: a pair alone has no corpus, and the few open orders near
    one spot are too few to estimate one; on the real corpus both separate duplicates equally well."""
    va, na = _vector(a)
    vb, nb = _vector(b)
    if not na or not nb:
        return 0.0
    if len(vb) < len(va):
        va, vb = vb, va
    dot = sum(w * vb.get(key, 0.0) for key, w in va.items())
    return min(1.0, dot / (na * nb))


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if len(digits) >= MIN_PHONE_DIGITS else ""


def _address(value: str) -> str:
    folded = _NOT_ADDRESS.sub("", value).lower()
    return folded if len(folded) >= MIN_ADDRESS else ""


def _community(code: str) -> bool:
    """A 12-digit division code of a village or community; a town's or county's (…000) is too wide to be
    near. Codes of another form are taken as they come."""
    if len(code) == 12 and code.isdigit():
        return code[9:] != "000"
    return bool(code)


def _distance_text(metres: float) -> str:
    if metres < 1000:
        return f"相距 {round(metres, -1):.0f} 米"
    return f"相距 {metres / 1000:.1f} 公里"


def _age_text(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours < 24:
        return f"{max(1, math.ceil(hours))} 小时内"
    return f"{math.ceil(hours / 24)} 天内"


def _nearness(new: Candidate, other: Candidate, radius_m: float) -> tuple[float, list[str]]:
    near = 0.0
    reasons: list[str] = []
    if new.grid_code and new.grid_code == other.grid_code:
        near = NEAR_SAME_GRID
        reasons.append("同一网格")
    if new.lon is not None and new.lat is not None and other.lon is not None and other.lat is not None:
        metres = haversine_m(new.lon, new.lat, other.lon, other.lat)
        if metres <= radius_m:
            near = max(near, 1.0 - 0.5 * metres / radius_m if radius_m > 0 else 1.0)
        if near:
            reasons.append(_distance_text(metres))
    else:
        if new.place_code and new.place_code == other.place_code and _community(new.place_code):
            near = max(near, NEAR_SAME_PLACE)
            reasons.append("同一社区（村）")
        address = _address(new.address)
        if address and address == _address(other.address):
            near = max(near, NEAR_SAME_PLACE)
            reasons.append("同一地址")
    return near, reasons


def find_duplicates(
    new: Candidate,
    candidates: Sequence[Candidate],
    *,
    radius_m: float = 500,
    window: timedelta = timedelta(days=7),
    threshold: float = DEFAULT_THRESHOLD,
    limit: int = 5,
) -> list[Suggestion]:
    """The candidates `new` probably repeats, best first (see the module's note for the rule and the
    score). `new` itself (the same id) is never suggested. Datetimes must be all aware or all naive."""
    phone = _phone(new.phone)
    found: list[tuple[float, timedelta, Suggestion]] = []
    for other in candidates:
        if other.id == new.id:
            continue
        age = abs(new.at - other.at)
        if age > window:
            continue
        near, reasons = _nearness(new, other, radius_m)
        same_phone = bool(phone) and phone == _phone(other.phone)
        if not near and not same_phone:
            continue
        alike = similarity(new.text, other.text)
        if alike < MIN_SIMILARITY:
            continue
        recency = 1.0 - age / window if window else 1.0
        score = (
            W_TEXT * min(1.0, alike / SAME_TEXT) + W_NEAR * near + W_PHONE * same_phone + W_RECENT * recency
        )
        if score < threshold:
            continue
        reasons.append(f"内容相似 {alike:.2f}")
        if same_phone:
            reasons.append("同一来电号码")
        reasons.append(_age_text(age))
        found.append((score, age, Suggestion(other, round(min(score, 1.0), 3), tuple(reasons))))
    found.sort(key=lambda f: (-f[0], f[1], f[2].candidate.id))
    return [suggestion for _, _, suggestion in found[:limit]]
