"""Where it happened (地点识别): the places an appeal's text names, read against the deployment's own
gazetteer (its regions, grids, standard addresses and places), so that an appeal filed without a map
point can still be put on the map and in a grid, and the dispatcher sees what was read and what was not.

Pure: the caller loads the gazetteer's rows and builds a `Gazetteer` once per change of them (for
10,000 entries about half a second and 25 MB, most of it a private copy of jieba's dictionary); `find`
then reads a 500-character text in about 0.15 ms.

Two kinds of names are looked for:
- full names (and aliases of three characters or more) match wherever they occur, found by a
  longest-match scan over a prefix table, so a name that jieba would split is still found;
- short forms (a region's name without 街道/镇/村 …, and any two-character name) match only where they
  are a whole word of the segmented text: "青山" is read in "青山的路灯" but not in "青山绿水", "东门" not in
  "东门口". Only these hits pay for a segmentation, and only of the few characters around them.
"""

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import jieba
import jieba.posseg

from zhili.kit.codes import subtree_prefix

jieba.setLogLevel(logging.WARNING)

KINDS = ("region", "grid", "address", "place")
# Stripped from a name to get its short form, longest first; the stem must keep two characters.
ADMIN_SUFFIXES = ("街道办事处", "居委会", "村委会", "街道", "社区", "镇", "乡", "村")
# jieba frequency given to full names: far above any dictionary word (the largest, 的, is about
# 320,000), so segmentation keeps a name whole. Short forms get only what it takes to be cut out alone.
NAME_FREQ = 1_000_000
# Characters of context on each side that jieba sees when a short form is checked as a whole word.
TOKEN_CONTEXT = 8
MIN_NAME = 2

# Full-width ASCII to half-width and Latin capitals to small letters, character for character, so
# that offsets into the folded text are offsets into the original.
_FOLD = str.maketrans(
    {**{0xFF01 + i: 0x21 + i for i in range(94)}, 0x3000: 0x20, **{c: c + 32 for c in range(0x41, 0x5B)}}
)


def _fold(text: str) -> str:
    return text.translate(_FOLD)


@dataclass(frozen=True)
class Entry:
    """One name of the gazetteer. `within` is the code of the region or grid that holds it, for places
    and addresses whose own code does not begin with it (a region's or grid's code already does)."""

    name: str
    kind: str  # "region" | "grid" | "address" | "place"
    code: str
    lon: float | None = None
    lat: float | None = None
    aliases: tuple[str, ...] = ()
    level: int = 0  # larger = more specific (county 1, town 2, community 3, grid 4, address/place 5)
    within: str = ""


@dataclass(frozen=True)
class Match:
    entry: Entry
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Term:
    entries: tuple[Entry, ...]  # most specific first
    strict: bool  # must be a whole jieba word to count
    level: int


def short_forms(name: str) -> list[str]:
    """The names a region goes by without its administrative suffix, shortest last:
    东门社区居委会 → 东门社区, 东门; 城关街道 → 城关; 青山镇 → 青山. None that leaves a single character."""
    forms: list[str] = []
    current = name
    while True:
        for suffix in ADMIN_SUFFIXES:
            if current.endswith(suffix) and len(current) - len(suffix) >= MIN_NAME:
                current = current[: -len(suffix)]
                forms.append(current)
                break
        else:
            return forms


@cache
def _base_tokenizer() -> jieba.Tokenizer:
    """A pristine jieba dictionary of our own: the global one belongs to the rest of the code, and words
    added for one deployment's gazetteer must not change how the classifier segments."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@cache
def _base_tagger() -> jieba.posseg.POSTokenizer:
    return jieba.posseg.POSTokenizer(_base_tokenizer())


def _private_tokenizer() -> jieba.Tokenizer:
    """A copy of the base dictionary: reading it again from jieba's cache costs 0.4 s, copying 10 ms.
    Relies on jieba 0.42's `FREQ`/`total`/`initialized`, which `initialize` itself sets."""
    base = _base_tokenizer()
    tokenizer = jieba.Tokenizer()
    with base.lock:
        tokenizer.FREQ = dict(base.FREQ)
        tokenizer.total = base.total
    tokenizer.initialized = True
    return tokenizer


def _scope(code: str) -> str:
    """The prefix every code under `code` starts with: the significant digits of a 12-digit division
    code (3301021010 00 → 330102101), the whole code otherwise (a grid's 15 digits, a place's own code)."""
    if len(code) == 12 and code.isdigit():
        return subtree_prefix(code)
    return code


def _inside(inner: Entry, outer: Entry) -> bool:
    if not outer.code or inner.code == outer.code:
        return False
    prefix = _scope(outer.code)
    return inner.code.startswith(prefix) or (bool(inner.within) and inner.within.startswith(prefix))


class Gazetteer:
    """The deployment's names, ready to be found in text. Immutable once built; safe to share between
    threads (jieba's tokenizer locks only while initialising, which is done here)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        sources: dict[str, dict[Entry, bool]] = {}  # term -> entry -> strict
        for entry in entries:
            names = [(entry.name, False), *((alias, False) for alias in entry.aliases)]
            names += [(form, True) for name, _ in list(names) for form in short_forms(name.strip())]
            for raw, generated in names:
                term = _fold(raw.strip())
                if len(term) < MIN_NAME:
                    continue
                strict = generated or len(term) <= MIN_NAME
                by_entry = sources.setdefault(term, {})
                # A term that is some entry's own full name stays loose for that entry.
                by_entry[entry] = by_entry.get(entry, True) and strict
        self._terms: dict[str, _Term] = {}
        self._prefixes: dict[str, bool] = {}  # every prefix of a term -> whether it is a whole term
        self._tokenizer = _private_tokenizer()
        for term, by_entry in sources.items():
            ordered = sorted(by_entry, key=lambda e: -e.level)  # stable: the input order among equals
            strict = all(by_entry.values())
            self._terms[term] = _Term(tuple(ordered), strict, ordered[0].level)
            for i in range(1, len(term)):
                self._prefixes.setdefault(term[:i], False)
            self._prefixes[term] = True
            if strict:
                self._tokenizer.add_word(term)  # frequency just high enough to be cut out alone
            else:
                self._tokenizer.add_word(term, NAME_FREQ)

    def __len__(self) -> int:
        return len(self._terms)

    def find(self, text: str) -> list[Match]:
        """Every gazetteer name in `text`, in reading order. Where names overlap, the longest wins, then
        the most specific; a name shared by several entries gives one match for each (see `best`)."""
        folded = _fold(text)
        spans = self._spans(folded)
        spans.sort(key=lambda s: (s[0] - s[1], -self._terms[folded[s[0] : s[1]]].level, s[0]))
        taken = bytearray(len(folded))
        chosen: list[tuple[int, int, _Term]] = []
        for start, end in spans:
            if any(taken[start:end]):
                continue
            term = self._terms[folded[start:end]]
            if term.strict and not self._is_word(folded, start, end):
                continue
            taken[start:end] = b"\x01" * (end - start)
            chosen.append((start, end, term))
        chosen.sort(key=lambda c: c[0])
        return [Match(entry, start, end, text[start:end]) for start, end, term in chosen for entry in term.entries]

    def best(self, matches: list[Match]) -> Match | None:
        """The match to geocode by: the most specific; among equals the one most consistent with the
        other matches (a 东门社区 under the 青山镇 also named beats the 东门社区 of another town), then the
        earliest, then the first entry given."""
        if not matches:
            return None
        entries = list({m.entry: None for m in matches})

        def support(m: Match) -> int:
            return sum(1 for other in entries if _inside(m.entry, other) or _inside(other, m.entry))

        return min(matches, key=lambda m: (-m.entry.level, -support(m), m.start))

    def locate(self, text: str) -> Match | None:
        return self.best(self.find(text))

    def unmatched(self, text: str, matches: list[Match] | None = None) -> list[str]:
        """`mentions` of the text that no gazetteer name accounts for: what the dispatcher should see as
        "未匹配" and what an administrator may add as a standard address or place."""
        found = {m.text for m in (self.find(text) if matches is None else matches)}
        return [
            phrase
            for phrase in mentions(text)
            if _fold(phrase) not in self._terms and not any(name in phrase or phrase in name for name in found)
        ]

    def _spans(self, text: str) -> list[tuple[int, int]]:
        prefixes = self._prefixes
        n = len(text)
        spans: list[tuple[int, int]] = []
        for i in range(n):
            j = i + 1
            fragment = text[i]
            while fragment in prefixes:
                if prefixes[fragment]:
                    spans.append((i, j))
                if j == n:
                    break
                j += 1
                fragment = text[i:j]
        return spans

    def _is_word(self, text: str, start: int, end: int) -> bool:
        low = max(start - TOKEN_CONTEXT, 0)
        pos = low
        for word in self._tokenizer.cut(text[low : min(end + TOKEN_CONTEXT, len(text))]):
            if pos >= start:
                return pos == start and pos + len(word) == end
            pos += len(word)
        return False


# --- Place-like phrases the gazetteer does not know -------------------------------------------------

PLACE_SUFFIXES = (
    "大道", "小区", "花园", "广场", "大厦", "学校", "小学", "中学", "医院", "市场", "公园", "社区",
    "路", "街", "巷", "苑", "村",
)
MAX_MENTION = 12
MAX_MENTION_WORDS = 4  # words before the suffix word
_HAS_SUFFIX = re.compile("|".join(PLACE_SUFFIXES))
_CLAUSE = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")
# A coded unit, "A市", "B2区": a boundary like a comma (it is also how the public corpus masks names).
_CODED_UNIT = re.compile(r"[A-Za-z]+\d*[省市区县]")
# A number or a count (3, 三个, 几条) ends a name; a numeral inside one (五一大道, 月塘路) does not.
_COUNT = re.compile(r"[\d个些几多每数余条段栋户所家座号期层]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Phrases that end like a place but name none by themselves (菜市场, 本小区).
GENERIC = _words(
    """
    道路 马路 公路 铁路 小路 大路 山路 老路 高速公路 人行道 农村 乡村 本村 我村 该村 全村 邻村 各村 新农村
    城中村 街道 大街 小街 步行街 商业街 小区 本小区 该小区 老小区 新小区 住宅小区 居民小区 安置小区 各小区 社区
    本社区 该社区 各社区 学校 本学校 该学校 小学 中学 医院 公园 广场 市场 花园 大厦 大道 菜市场 农贸市场
    房地产市场 人才市场 劳动力市场 垄断市场
    """
)
# Words that end in a place suffix but never end a place's name (走路, 思路): no phrase is built on them.
NOT_PLACES = _words(
    """
    走路 套路 思路 出路 线路 电路 网路 道路 马路 门路 后路 上路 过路 修路 沿路 一路 退路 进路 之路 旁路 临路
    让路 带路 必经之路 生路 这路 那路 逛街 上街 临街 沿街 满街 当街
    """
)
# Single words that end a name to the left whatever jieba tags them.
_STOP_WORDS = _words(
    """
    是 有 在 到 去 来 住 让 说 要 会 能 想 看 做 走 建 修 装 拆 占 找 买 卖 收 交 用 把 被 给 向 从 对 距 离 近
    靠 和 与 及 整个 所有 全部 一些 各个 这些 那些 整条 每个 个别 周边 附近 旁边 对面 门口 紧挨 紧靠 距离 位于
    地处 处
    """
)
# Tokens that end a name to the left although they end like a place of government.
_NOT_UNITS = _words(
    """
    小区 社区 园区 景区 城区 校区 片区 街区 超市 城市 都市 城镇 乡镇 城乡 下乡 老区 山区 库区 辖区 市区 郊区
    湖区 厂区 矿区 林区 灾区 住宅区 居民区 开发区 商业区 生活区 新区
    """
)
_UNIT_ENDS = ("省", "市", "县", "区", "镇", "乡", "街道")
# Part-of-speech tags (jieba's ICTCLAS set) that never belong to a place name: prepositions,
# conjunctions, particles, adverbs, pronouns, time and position words, measure words, modal words,
# interjections, onomatopoeia, place words (附近, 门口) and punctuation.
_STOP_TAGS = ("p", "c", "u", "d", "r", "t", "f", "q", "y", "e", "o", "s", "x", "w", "z")


def _name_part(word: str, flag: str) -> bool:
    if word in _STOP_WORDS or flag.startswith(_STOP_TAGS):
        return False
    if flag.startswith("v") and len(word) > 1:  # 垄断, 影响; a lone character is more often a mis-read name (怡)
        return False
    if flag.startswith("m") and _COUNT.search(word):
        return False
    if word.endswith(_UNIT_ENDS) and word not in _NOT_UNITS:
        return False
    return not word.endswith(PLACE_SUFFIXES)  # a place of its own: 古曲南路 | 广益中学


def mentions(text: str) -> list[str]:
    """Place-like phrases in `text`, in reading order: a word ending in 路, 街, 小区, 医院 … with the name
    words before it (五一大道, 富雅坪小区, 望月湖第二小学), at most 12 characters. A phrase inside a longer
    one is left out. Needs jieba's part-of-speech tags, so slower than `Gazetteer.find` (a few ms)."""
    tagger = _base_tagger()
    found: list[str] = []
    for clause in _CLAUSE.split(_CODED_UNIT.sub(" ", text)):
        if not _HAS_SUFFIX.search(clause):
            continue
        pairs = [(p.word, p.flag) for p in tagger.lcut(clause)]
        for j, (word, _flag) in enumerate(pairs):
            suffix = next((s for s in PLACE_SUFFIXES if word.endswith(s)), None)
            if suffix is None or word in NOT_PLACES:
                continue
            phrase = word
            i = j - 1
            while (
                i >= 0
                and j - i <= MAX_MENTION_WORDS
                and len(phrase) + len(pairs[i][0]) <= MAX_MENTION
                and _name_part(*pairs[i])
            ):
                phrase = pairs[i][0] + phrase
                i -= 1
            stem = phrase[: -len(suffix)]
            if phrase in GENERIC or len(stem) < 2 or stem.isdigit() or len(phrase) > MAX_MENTION:
                continue
            if phrase not in found:
                found.append(phrase)
    return [p for p in found if not any(p != other and p in other for other in found)]
