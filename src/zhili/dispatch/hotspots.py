"""Hot issues (热点问题): the problems that many people raise about one place in one period, ranked by heat.

Pure functions over `Message` values, no database: the platform passes the appeals of its own tables, the
benchmark the messages of a city's message board. `cluster` groups them in four steps:

1. Places (`_places`). A named place is a run of Chinese characters that ends in a place suffix: a spot
   (小区, 花园, 苑, 城, 学院, 医院 ...) or something wider (路, 大道, 街道, 村) or an organisation (公司,
   集团). A name never crosses a masked code (A3区), punctuation or a word such as 投诉/关于/附近/我们, so
   「投诉A2区丽发新城附近建搅拌站」 names 丽发新城. Each name gives several keys (its last 3 to 6 characters
   with the suffix), so that 「万家丽南路丽发新城」 and 「暮云街道丽发新城」 share 丽发新城. Keys come from the
   title, from the start of the text where some title names the same key, and from the `place` the
   platform already extracted. Generic places (市政府, 公交站) are not keys.
2. Problem vectors. The place names are taken out of the text, so that two different problems at one
   compound do not look alike; then TF-IDF over the shared tokenizer's words (the title counted twice,
   then the start of the text) and over character 2-3-grams of the title, each block L2-normalised and
   weighted. Words in very many messages are dropped.
3. Links. Two messages at most `window_days` apart are linked when their problem similarity reaches
   `similarity` and they name the same spot, or `area_similarity` and they share any key (a road, an
   organisation), or `strong_similarity` whatever they name; and never when their titles name two
   different spots or districts (one complaint pasted for two schools stays two issues).
4. Clusters: the connected components of the links, summarised and ranked by `heat`.

Similarities are computed block by block over the messages sorted by time, each against the messages
inside the window only: memory grows with the messages and their links, never with their square.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.preprocessing import normalize  # type: ignore[import-untyped]

from zhili.dispatch.text import tokenize


@dataclass
class Message:
    """One appeal. `text` is its body; `title` its subject line where the channel has one (the most
    telling part: it names the place and the problem). `caller` identifies the person (phone, account);
    empty means unknown, and each such message then counts as its own caller. `place`: a place name the
    platform already extracted, may be empty. `support`: likes or agreements where the channel has them."""

    id: str
    text: str
    at: datetime
    caller: str = ""
    place: str = ""
    support: int = 0
    title: str = ""


@dataclass
class Cluster:
    """A group of messages about one problem at one place. `recent` and `previous` count its messages in
    the last `growth_days` up to `as_of` and in the `growth_days` before those; `growth` is
    ln((1 + recent) / (1 + previous)): 0 when steady or quiet, 0.69 when doubled, negative when fading."""

    ids: list[str]
    label: str
    place: str
    keywords: list[str]
    first: datetime
    last: datetime
    messages: int
    callers: int
    support: int
    recent: int
    previous: int
    growth: float
    heat: float


# Heat -------------------------------------------------------------------------------------------------

HEAT_MESSAGES = 1.0  # every message, repeats by one caller included
HEAT_CALLERS = 2.0  # distinct people: the strongest sign that a problem is shared
HEAT_SUPPORT = 0.5  # likes or agreements: people who agreed without writing
HEAT_GROWTH = 1.0  # rising or fading over the last growth window


def growth(recent: int, previous: int) -> float:
    """ln((1 + recent) / (1 + previous)): see `Cluster`."""
    return math.log((1 + recent) / (1 + previous))


def heat(messages: int, callers: int, support: int, growth: float) -> float:
    """The heat index (热度指数), the one place where it is defined:

        heat = HEAT_MESSAGES·ln(1 + messages) + HEAT_CALLERS·ln(1 + callers)
             + HEAT_SUPPORT·ln(1 + support) + HEAT_GROWTH·growth

    with growth = ln((1 + recent) / (1 + previous)) over the last two growth windows (`growth`).

    Logarithms, because doubling any count should add a fixed amount rather than swamp the others (one
    message with 2,000 likes is not worth a thousand callers). The growth term is positive for an issue
    that is rising in the last window, zero when it is steady or quiet, and negative when it is fading.
    """
    return (HEAT_MESSAGES * math.log1p(messages) + HEAT_CALLERS * math.log1p(callers)
            + HEAT_SUPPORT * math.log1p(max(support, 0)) + HEAT_GROWTH * growth)


def rank(clusters: Iterable[Cluster]) -> list[Cluster]:
    """Hottest first; ties by more callers, then the most recent."""
    return sorted(clusters, key=lambda c: (c.heat, c.callers, c.last), reverse=True)


def unclustered(messages: Sequence[Message], clusters: Iterable[Cluster]) -> list[str]:
    """The ids of the messages in none of `clusters`: with the ranked clusters, the messages that are not
    part of any hot issue."""
    inside = {i for c in clusters for i in c.ids}
    return [m.id for m in messages if m.id not in inside]


# Place keys -------------------------------------------------------------------------------------------

PLACE_NAME_CHARS = 6  # at most this many characters of a name before its suffix
# A compound, a school, a shop: one spot. Two titles that name different ones are about different places.
SPOT_SUFFIXES = (
    "小区", "花园", "家园", "新城", "新村", "公寓", "大厦", "广场", "商城", "苑", "园", "城", "府", "湾", "郡",
    "庭", "阁", "墅", "邸", "滩", "学校", "小学", "中学", "大学", "学院", "职业技术学院", "幼儿园", "医院", "市场",
    "商场", "超市", "酒店", "公园", "工地", "厂", "馆",
)
# A road, an area, an organisation: wider, or an actor rather than a spot (广铁集团 sells the flats of
# 伊景园滨河苑), so sharing one links messages but naming two different ones does not keep them apart.
AREA_SUFFIXES = (
    "社区", "街道", "村", "镇", "乡", "湖", "路", "街", "巷", "大道", "大桥", "隧道", "桥", "高速", "车站", "站",
    "公司", "集团", "银行", "有限公司", "有限责任公司", "股份有限公司", "投资有限公司", "开发有限公司",
    "置业有限公司", "科技有限公司", "管理有限公司", "服务有限公司", "物业公司", "开发公司", "地产公司",
)
PLACE_SUFFIXES = SPOT_SUFFIXES + AREA_SUFFIXES
# Words that end a name: verbs and function words of complaints, and where-words (附近, 旁边).
PLACE_BREAKS = (
    "关于", "反映", "反应", "投诉", "举报", "咨询", "建议", "请问", "请求", "恳请", "要求", "希望", "强烈",
    "解决", "处理", "附近", "旁边", "周边", "周围", "门口", "对面", "沿线", "一带", "里面", "内部", "位于",
    "家住", "住在", "地处", "我们", "你们", "他们", "我是", "本人", "业主", "居民", "市民", "西地省", "整个",
    "影响", "感谢", "修建", "新建", "违建", "在建", "配套", "安置", "住宅", "临街", "楼下",
    "的", "在", "和", "与", "及", "对", "是", "我", "该", "本", "这", "那", "此", "从", "到", "向", "被", "把",
    "给", "为", "让", "了", "请", "各",
)
# Keys that name a kind of place, not one place.
GENERIC_PLACES = frozenset({
    "市政府", "区政府", "县政府", "镇政府", "人民政府", "市委市政府", "委市政府", "公交站", "地铁站", "加油站",
    "垃圾站", "搅拌站", "搅拌厂", "麻将馆", "公交线路", "首末站", "公交首末站", "交首末站", "过马路", "十字路",
    "断头路", "水泥路", "高速公路", "速公路", "过街天桥", "街天桥", "高架桥", "农贸市场", "实验学校", "培训学校",
    "服务中心", "自来水公司", "来水公司", "工业园", "中心城", "国际城", "国际社区", "国际小区", "新村社区",
})
# Longest first: the compound endings (投资有限公司, 物业公司) keep a company's trade from being read as its
# name, so that 展星投资有限公司 has the name 展星.
_SUFFIX = re.compile("|".join(sorted(PLACE_SUFFIXES, key=len, reverse=True)))
_SPOT = frozenset(SPOT_SUFFIXES)
_BREAK = re.compile(r"[A-Za-z]+\d*[市区县省]?|[^\u4e00-\u9fff]+|[一二三四五六七八九十]+期|" + "|".join(PLACE_BREAKS))
_DISTRICT = re.compile(r"[A-Z]\d+[区县]")
_MASK = re.compile(r"[A-Za-z]+\d*[市区县省]?")


def place_keys(text: str) -> set[str]:
    """The keys of the named places in `text` (see the module docstring, step 1)."""
    return _places(text).keys


@dataclass
class _Places:
    keys: set[str]
    spots: set[str]  # the keys of spots (SPOT_SUFFIXES)
    stems: set[str]  # of spots: the first and the last two characters of the name with the suffix


def _places(text: str) -> _Places:
    """The named places of `text`. A name runs from the end of the place before it in the same run (or
    the run's start) to its suffix; when that leaves less than two characters, the suffix before belongs
    to the name (星湖湾, 楚府华城, 丽发新城小区). Its keys are its last 3 to PLACE_NAME_CHARS characters with
    the suffix, and the name joined to the place just before it (伊景园滨河苑); the last 2 with the suffix
    are a key of a spot only when that is the whole name (丽发新城), and otherwise a wider key (实验中学
    ends many schools' names). The stems tell variants of one name (广益中学, 广益实验中学) from two."""
    places = _Places(set(), set(), set())
    for run in _BREAK.split(text):
        name_start = 0  # where the next name may begin: after the last place found
        last_start = 0  # where the last place's name began
        before = ""
        for m in _SUFFIX.finditer(run):
            start, end = m.span()
            low = name_start if start - name_start >= 2 else last_start
            name = run[max(low, start - PLACE_NAME_CHARS):start]
            found = {run[start - size:end] for size in range(3, len(name) + 1)}
            short = run[start - 2:end] if len(name) >= 2 and run[start - 2:end] not in GENERIC_PLACES else ""
            if len(name) == 2 and short:
                found.add(short)
            if found and before and low == name_start and start - len(name) == name_start:
                found.add(before + run[name_start:end])
            found -= GENERIC_PLACES
            if short:
                places.keys.add(short)
            if found:
                places.keys |= found
                if m.group() in _SPOT:
                    places.spots |= found
                    places.stems |= {name[:2] + m.group(), name[-2:] + m.group()}
                before, last_start, name_start = max(found, key=len), low, end
    return places


def districts(text: str) -> set[str]:
    """The masked district and county codes of `text` (A3区, A7县): a coarse place."""
    return set(_DISTRICT.findall(text))


# Clustering -------------------------------------------------------------------------------------------

MIN_CALLERS = 3
SIMILARITY = 0.1  # messages that name the same spot (a compound, a school)
AREA_SIMILARITY = 0.2  # messages that share only a wider place (a road) or an organisation
STRONG_SIMILARITY = 0.4  # messages that share no place key
WINDOW_DAYS = 60.0
GROWTH_DAYS = 7.0
TEXT_CHARS = 200  # of the body, after the title: the problem is stated first; this bounds the tokenizer's work
WORD_WEIGHT = 0.75  # share of the similarity from the words; the rest from the title's character n-grams
COMMON_SHARE, COMMON_FLOOR = 0.02, 200  # words and keys in more messages than both are dropped
BLOCK_PAIRS = 2_000_000  # pairs of messages compared at once: bounds the memory of one block


@dataclass
class _Prepared:
    messages: list[Message]  # sorted by time
    vectors: sp.csr_matrix  # of the problem: the place names are taken out of the text first
    words: np.ndarray  # the word features' names; their columns come first in `vectors`
    title_keys: list[set[str]]
    keys: list[set[str]]  # of the title and the start of the text
    spots: list[set[str]]  # those of `keys` that name a spot
    title_stems: list[set[str]]  # of the spots the title names
    title_districts: list[set[str]]


def cluster(
    messages: Sequence[Message],
    *,
    min_callers: int = MIN_CALLERS,
    similarity: float = SIMILARITY,
    area_similarity: float = AREA_SIMILARITY,
    strong_similarity: float = STRONG_SIMILARITY,
    window_days: float = WINDOW_DAYS,
    growth_days: float = GROWTH_DAYS,
    as_of: datetime | None = None,
    keywords: int = 5,
) -> list[Cluster]:
    """The hot issues of `messages`, hottest first: the groups with at least `min_callers` distinct
    callers. With `min_callers=1` every message is in exactly one returned cluster (singletons included):
    the whole partition. `as_of` ends the growth window, by default at the newest message. The datetimes
    must be all naive or all aware."""
    if not messages:
        return []
    prepared = _prepare(messages)
    labels = _components(prepared, (similarity, area_similarity, strong_similarity), window_days * 86_400)
    end = as_of or max(m.at for m in messages)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    found = []
    for members in groups.values():
        if _callers([prepared.messages[i] for i in members]) >= min_callers:
            found.append(_summarise(prepared, members, end, timedelta(days=growth_days), keywords))
    return rank(found)


def _callers(members: Iterable[Message]) -> int:
    return len({m.caller or f"\0{m.id}" for m in members})


def _title(message: Message) -> str:
    return message.title or message.text[:30]


def _prepare(messages: Sequence[Message]) -> _Prepared:
    ordered = sorted(messages, key=lambda m: m.at)
    heads = [m.text[:TEXT_CHARS] for m in ordered]
    in_titles = [_places(_title(m)) for m in ordered]
    for m, places in zip(ordered, in_titles, strict=True):
        if m.place:  # the platform's own place: a spot, with the keys of the names it contains
            given = _places(m.place)
            places.keys |= given.keys | {m.place}
            places.spots |= given.spots | {m.place}
            places.stems |= given.stems | {m.place}
    in_heads = [_places(head) for head in heads]
    title_keys = [p.keys for p in in_titles]
    # A key of the text counts only where some title names it too: titles name places, while the text
    # also yields fragments (必须去学校) that would tie unrelated messages.
    named = set().union(*title_keys)
    keys = [t | (p.keys & named) for t, p in zip(title_keys, in_heads, strict=True)]
    spots = [t.spots | (p.spots & named) for t, p in zip(in_titles, in_heads, strict=True)]
    title_stems = [p.stems for p in in_titles]
    # The vectors describe the problem: the place is matched by its keys, and left in the text it would
    # make two different problems at one compound look alike.
    titles = [_without(_MASK.sub(" ", _title(m)), k) for m, k in zip(ordered, keys, strict=True)]
    bodies = [_without(_MASK.sub(" ", head), k) for head, k in zip(heads, keys, strict=True)]
    # Words in very many messages say little about a problem and make every pair share a feature: left
    # in, the similarity blocks fill up (quadratic time); a hot issue's own words stay below the cap.
    max_df = _common_cap(len(ordered))
    word_matrix, words = _tfidf(TfidfVectorizer(analyzer=lambda tokens: tokens, sublinear_tf=True, max_df=max_df),
                                [tokenize(t) * 2 + tokenize(b) for t, b in zip(titles, bodies, strict=True)])
    char_matrix, _ = _tfidf(TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, max_df=max_df),
                            titles)
    vectors = sp.hstack([normalize(word_matrix) * math.sqrt(WORD_WEIGHT),
                         normalize(char_matrix) * math.sqrt(1 - WORD_WEIGHT)]).tocsr()
    return _Prepared(ordered, normalize(vectors), words, title_keys, keys, spots, title_stems,
                     [districts(_title(m)) for m in ordered])


def _tfidf(vectorizer: TfidfVectorizer, documents: list[Any]) -> tuple[sp.csr_matrix, np.ndarray]:
    """The documents' vectors and the features' names; no features when no document has a word left
    (messages of digits and Latin letters only)."""
    try:
        return vectorizer.fit_transform(documents).tocsr(), vectorizer.get_feature_names_out()
    except ValueError:  # empty vocabulary
        return sp.csr_matrix((len(documents), 1)), np.array([""], dtype=object)  # one column, all zero


def _without(text: str, keys: set[str]) -> str:
    for key in sorted(keys, key=len, reverse=True):
        text = text.replace(key, " ")
    return text


def _components(prepared: _Prepared, thresholds: tuple[float, float, float], window: float) -> np.ndarray:
    """The cluster number of each message (in time order); `window` in seconds."""
    spot_level, area_level, strong_level = thresholds
    lowest = min(thresholds)
    times = np.array([m.at.timestamp() for m in prepared.messages])
    n = len(times)
    cap = _common_cap(n)
    keys, spots = _incidence(prepared.keys, cap), _incidence(prepared.spots, cap)
    stems, districts = _incidence(prepared.title_stems), _incidence(prepared.title_districts)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    start = 0
    while start < n:
        # Rows [start, stop) against columns [start, reach): each pair once, only inside the window. The
        # rows span one window at most, so that a quiet start does not pull the whole input into a block.
        reach = int(np.searchsorted(times, times[start] + window, side="right"))
        stop = min(reach, start + max(1, BLOCK_PAIRS // (reach - start)))
        reach = int(np.searchsorted(times, times[stop - 1] + window, side="right"))
        score = (prepared.vectors[start:stop] @ prepared.vectors[start:reach].T).tocsr()
        score.data[score.data < lowest] = 0
        score.eliminate_zeros()
        linked = ((score >= strong_level)
                  + (score >= area_level).multiply(keys[start:stop] @ keys[start:reach].T)
                  + (score >= spot_level).multiply(spots[start:stop] @ spots[start:reach].T)).tocoo()
        i, j = linked.row + start, linked.col + start
        keep = (j > i) & (times[j] - times[i] <= window)
        i, j = i[keep], j[keep]
        keep = ~(_disjoint(stems, i, j) | _disjoint(districts, i, j))
        rows.append(i[keep])
        cols.append(j[keep])
        start = stop
    i, j = np.concatenate(rows), np.concatenate(cols)
    graph = sp.coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    return np.asarray(labels)


def _common_cap(n: int) -> int:
    return max(COMMON_FLOOR, int(COMMON_SHARE * n))


def _incidence(rows: list[set[str]], cap: int | None = None) -> sp.csr_matrix:
    """A 0/1 matrix with one row per message and one column per key; keys in more than `cap` messages
    are left out (a key that many messages share tells no place apart, and would fill the products)."""
    if cap is not None:
        counts = Counter(k for r in rows for k in r)
        rows = [{k for k in r if counts[k] <= cap} for r in rows]
    ids: dict[str, int] = {}
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.array([ids.setdefault(k, len(ids)) for r in rows for k in r], dtype=np.int64)
    width = max(len(ids), 1)
    return sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(rows), width))


def _overlap(matrix: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    return np.asarray(matrix[i].multiply(matrix[j]).sum(axis=1)).ravel() > 0


def _disjoint(matrix: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Both rows have keys and none in common."""
    counts = np.diff(matrix.indptr)
    return (counts[i] > 0) & (counts[j] > 0) & ~_overlap(matrix, i, j)


PLACE_SHARE = 0.8  # a longer place name is preferred while at least this share of the top one's messages have it


def _place(counts: Counter[str], size: int) -> str:
    """The name the members use most, the longest among the nearly most used; none that only one
    member of a group uses."""
    if not counts:
        return ""
    top = counts.most_common(1)[0][1]
    if top < 2 and size > 1:
        return ""
    return max((k for k, c in counts.items() if c >= PLACE_SHARE * top), key=lambda k: (len(k), counts[k]))


def _summarise(prepared: _Prepared, members: list[int], end: datetime, growth_window: timedelta,
               keywords: int) -> Cluster:
    messages = [prepared.messages[i] for i in members]
    vectors = prepared.vectors[members]
    total = np.asarray(vectors.sum(axis=0)).ravel()  # the centroid, times the number of members
    central = messages[int(np.argmax(vectors @ total))]
    place = _place(Counter(k for i in members for k in prepared.title_keys[i]), len(members)) or _place(
        Counter(k for i in members for k in prepared.keys[i]), len(members))
    words = np.unique(vectors.indices[vectors.indices < len(prepared.words)])  # the members' words only
    ranked = [str(prepared.words[k]) for k in words[np.argsort(-total[words], kind="stable")]]
    recent = sum(1 for m in messages if end - growth_window < m.at <= end)
    previous = sum(1 for m in messages if end - 2 * growth_window < m.at <= end - growth_window)
    rise = growth(recent, previous)
    callers = _callers(messages)
    support = sum(max(m.support, 0) for m in messages)
    return Cluster(
        ids=[m.id for m in messages],
        label=_title(central),
        place=place,
        keywords=[w for w in ranked if len(w) > 1][:keywords],  # one character says little (万, 厂)
        first=min(m.at for m in messages),
        last=max(m.at for m in messages),
        messages=len(messages),
        callers=callers,
        support=support,
        recent=recent,
        previous=previous,
        growth=round(rise, 4),
        heat=round(heat(len(messages), callers, support, rise), 4),
    )
