"""The appeal classifier: which first-level category (城乡建设, 交通运输, ...) an appeal belongs to, with a
confidence the platform can auto-dispatch on. It knows no category names: it learns whatever labels it
is trained on.

Features are Chinese characters and character pairs, not jieba words, for two reasons:

- One feature space for raw and segmented text. The training corpus (teddy2020c) was segmented with
  jieba and had its stop words and Latin letters removed; live appeals are raw. Both are reduced to the
  same string: the Chinese characters only (spaces, punctuation, digits and masked place letters such as
  A3区 vanish) with the corpus' stop words cut out wherever they occur, in words or between them. A raw
  message and its segmented twin then give the same features, whatever jieba's version or dictionary did.
- Speed. A live appeal is classified without segmentation, in a fraction of a millisecond; jieba alone
  takes about a millisecond for an average appeal.

On top of the characters of the whole text, the first HEAD_CHARS characters (roughly the subject line,
which the corpus and the intake both put first) are a second block of features with a lower weight. A
linear SVM scores the labels; a softmax of the scores turns them into confidences that sum to 1 and mean
what they say (of the appeals given 0.9, about 9 in 10 are right). Its temperature rises as the text gets
shorter, since a short message says less ("你好" is about nothing): both are fitted on out-of-fold scores of
the training texts and of their first few characters. The constants below were chosen by cross-validation
on the training corpus only (docs/benchmarks.md, "classify").
"""

import io
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import repeat
from operator import add

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

FORMAT = 1  # of to_bytes(); from_bytes() refuses any other
HEAD_CHARS = 15
HEAD_WEIGHT = 0.5
HEAD_MARK = "^"  # prefixes head features; normalised text holds Chinese characters only, so it never collides
C = 1.5  # the SVM's regularisation
MAX_DF = 0.5  # body characters and pairs found in more than this share of the texts say nothing
SMALL_CORPUS = 100  # below this many texts every character and pair is kept (min_df 1, no max_df)
CALIBRATION_FOLDS = 3
PREFIXES = (1, 2, 4, 8, 16, 32, 64)  # lengths of the short appeals the confidence is calibrated on
PREFIX_SAMPLE = 1000  # texts whose prefixes are taken

# The corpus' stop words, as far as it shows them: words that jieba finds in at least 0.2 % of the ~9,900
# unlabelled raw messages beside the corpus (../shared/data/teddy2020c), that never occur as a word of the
# segmented corpus, and that its text holds, even inside other words, less than half as often as raw text
# does (so 一 and 老 stay: the corpus only glued them to other words). A few are not function words (站牌,
# 香槟, 社会主义): the corpus lacks them all the same, so the classifier must not see them in raw text either.
_STOP_TEXT = """
的 是 在 了 有 都 和 也 我 没有 我们 就 还 为 给 对 能 这 与 等 可以 但 被 让 又 并 将 而 从 不能 吗 向 作为 什么
这样 及 但是 把 有关 这个 多次 就是 没 还是 于 他们 不是 为什么 如果 很 本人 因为 关于 自己 才 任何 通过 还有 这些
由 开始 很多 而且 因 可 时候 其他 只有 由于 们 其 为了 且 或 怎么 按 同时 经过 根据 非常 呢 他 或者 所以 这么 谁
甚至 尽快 那 结果 经常 难道 以及 不要 对于 均 才能 你 并且 必须 你们 按照 如此 为何 基本 可是 可能 只是 这里 跟 如
那么 各种 大家 其中 如何 叫 吧 如下 一样 极大 到底 不会 出来 不管 啊 因此 仍 不了 多少 虽然 各位 只要 另外 仅 然而
哪里 然后 后来 不得 即 何时 有些 不仅 等等 到处 起来 竟然 既 加上 的话 更加 如今 既然 不少 仍然 怎么办 随着 一旦
别人 而是 其实 其它 反而 那里 马上 居然 除了 一般 这边 首先 不同 几乎 那些 于是 及其 哪 一切 它 哪个 另 不但 否则 她
那个 等到 故意 不再 比如 从未 仅仅 即使 怎样 即将 毫无 自身 别的 哪些 么 自从 之一 从来 人家 进去 某些 呀 大概
不得不 将近 就算 不过 本身 怕 当然 极其 他人 基本上 毕竟 简直 亲自 据说 怎么样 虽 从而 公然 按时 不然 本着 可见 那边
来看 出去 究竟 使得 很少 前后 极为 各个 理应 尽早 大约 综上所述 近年来 绝对 己 不如 依照 不止 例如 其余 差不多 上下
基于 要么 鉴于 万一 什么样 不满 进来 当场 况且 自家 竟 与其 要是 其次 加之 而言 尽 尽管 极度 或是 再说 一方面 啦
尽量 乃至 而已 至于 那样 之类 并非 当中 更为 丽发 从此 常常 何 她们 以免 广铁集团 过于 不怕 多多 日益 别说 毫不 嘛
社会主义 互相 不得已 偶尔 哪怕 何处 不成 从不 即便 再者 据悉 迫于 加以 其二 不力 总之 从中 不下 以便 或许 立马 此外
上去 长期以来 大都 另一方面 挨着 接着 纯粹 此后 的确 处处 假如 咱们 每当 经侦 刚好 其一 区丽发 就此 如期 这时 上来
屡次 当着 除外 青竹 站牌 不论 看来 也好 必将 来讲 极力 伙同 极端 那时 然 人行横道 市伊 恐怕 虽说 近来 较为 从小
接下来 而后 不仅仅 哦 据我所知 据此 沿着 立刻 各自 以至于 全都 宁愿 当即 每逢 套内 以致 不已 之所以 屡屡 截至 香槟
似的 非得 趁
"""
STOP_WORDS = tuple(_STOP_TEXT.split())

_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]+")


@cache
def _stop_patterns(stop_words: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str], frozenset[str]]:
    """Words of two characters or more (longer first, so that 我们 goes whole), then single characters:
    two passes, because one alternation that ends in a character class is three times slower."""
    longer = sorted((w for w in stop_words if len(w) > 1), key=len, reverse=True)
    single = "".join(re.escape(w) for w in stop_words if len(w) == 1)
    never = r"(?!)"
    return (re.compile("|".join(map(re.escape, longer)) or never), re.compile(f"[{single}]" if single else never),
            frozenset(stop_words))


def normalise(text: str, *, segmented: bool = False, stop_words: tuple[str, ...] = STOP_WORDS) -> str:
    """The string the classifier reads: Chinese characters only, stop words cut out.

    Segmented text loses its whole-word stop words first, as the corpus' own pipeline did; the cut at the
    character level that follows leaves a raw text and its segmented twin the same string."""
    longer, single, stop = _stop_patterns(stop_words)
    if segmented:
        text = "".join(w for w in text.split() if w not in stop)
    return single.sub("", longer.sub("", _NOT_HAN.sub("", text)))


def _grams(s: str) -> Counter[str]:
    """Characters and character pairs of the whole text, then of its head (marked)."""
    head = s[:HEAD_CHARS]
    grams = Counter(s)
    grams.update(map(add, s, s[1:]))
    grams.update(HEAD_MARK + c for c in head)
    grams.update(HEAD_MARK + a + b for a, b in zip(head, head[1:], strict=False))
    return grams


@dataclass(eq=False)
class TextModel:
    """A trained classifier: `grams` are its features (`head` marks those of the head block), `weights`
    has one row per feature and one column per label. Scores become confidences through a softmax at
    temperature `temperature * (1 + short_text / n)`, n the length of the normalised text: a short
    appeal says less, and its confidence is lower for the same scores."""

    labels: list[str]
    trained_on: int
    grams: list[str]
    idf: np.ndarray
    head: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    temperature: float = 1.0
    short_text: float = 0.0
    stop_words: tuple[str, ...] = STOP_WORDS

    @cached_property
    def _index(self) -> dict[str, int]:
        return {g: i for i, g in enumerate(self.grams)}

    def top(self, texts: Sequence[str], k: int = 3, *, segmented: Sequence[bool] | bool = False
            ) -> list[list[tuple[str, float]]]:
        """Per text, the k likeliest labels with their confidence, best first."""
        if not texts:
            return []
        p = self.probabilities(texts, segmented=segmented)
        best = np.argsort(-p, axis=1, kind="stable")[:, : min(k, len(self.labels))]
        return [[(self.labels[j], float(row[j])) for j in order] for row, order in zip(p, best, strict=True)]

    def predict(self, texts: Sequence[str], *, segmented: Sequence[bool] | bool = False) -> list[str]:
        if not texts:
            return []
        return [self.labels[j] for j in self._scores(self._normalise(texts, segmented)).argmax(axis=1)]

    def probabilities(self, texts: Sequence[str], *, segmented: Sequence[bool] | bool = False) -> np.ndarray:
        """One row per text, one column per label (in `labels` order); each row sums to 1."""
        strings = self._normalise(texts, segmented)
        lengths = np.array([len(s) for s in strings])
        return _confidences(self._scores(strings), lengths, self.temperature, self.short_text)

    def _normalise(self, texts: Sequence[str], segmented: Sequence[bool] | bool) -> list[str]:
        return [normalise(t, segmented=f, stop_words=self.stop_words)
                for t, f in zip(texts, _flags(texts, segmented), strict=True)]

    def _scores(self, strings: Sequence[str]) -> np.ndarray:
        """The SVM's scores, one row per normalised text."""
        if len(strings) == 1:  # the live path, one appeal at a time: no sparse matrix to build
            cols, values = self._row(strings[0])
            return np.asarray(values @ self.weights[cols] + self.bias)[None, :]
        return np.asarray(self._matrix(strings) @ self.weights) + self.bias

    def _row(self, s: str) -> tuple[np.ndarray, np.ndarray]:
        """One normalised text's feature indices and values: sublinear tf times idf, each block of unit
        length, the head block then scaled by HEAD_WEIGHT."""
        index = self._index
        counts = _grams(s)
        cols = np.fromiter(map(index.get, counts, repeat(-1)), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        known = cols >= 0
        cols = cols[known]
        values = (1.0 + np.log(tf[known])) * self.idf[cols]
        in_head = self.head[cols]
        for block, weight in ((~in_head, 1.0), (in_head, HEAD_WEIGHT)):
            length = math.sqrt(float(values[block] @ values[block]))
            if length:
                values[block] *= weight / length
        return cols, values

    def _matrix(self, strings: Sequence[str]) -> sparse.csr_matrix:
        rows = [self._row(s) for s in strings]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(cols) for cols, _ in rows])
        cols = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
        values = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
        return sparse.csr_matrix((values, cols, indptr), shape=(len(rows), len(self.grams)))

    def to_bytes(self) -> bytes:
        """A compressed numpy archive: loading it runs no code, unlike a pickle."""
        meta = {"format": FORMAT, "labels": self.labels, "trained_on": self.trained_on,
                "temperature": self.temperature, "short_text": self.short_text, "stop_words": list(self.stop_words),
                "head_chars": HEAD_CHARS, "head_weight": HEAD_WEIGHT, "head_mark": HEAD_MARK}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), np.uint8),
                            grams=np.array(self.grams, dtype=str), idf=self.idf, head=self.head,
                            weights=self.weights, bias=self.bias)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "TextModel":
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(archive["meta"].tobytes().decode())
            features = (meta.get("head_chars"), meta.get("head_weight"), meta.get("head_mark"))
            if meta.get("format") != FORMAT or features != (HEAD_CHARS, HEAD_WEIGHT, HEAD_MARK):
                raise ValueError(f"classifier model of format {meta.get('format')} {features}; "
                                 f"this version reads format {FORMAT} {(HEAD_CHARS, HEAD_WEIGHT, HEAD_MARK)}")
            return cls(labels=list(meta["labels"]), trained_on=int(meta["trained_on"]),
                       grams=archive["grams"].tolist(), idf=archive["idf"], head=archive["head"],
                       weights=archive["weights"], bias=archive["bias"], temperature=float(meta["temperature"]),
                       short_text=float(meta["short_text"]), stop_words=tuple(meta["stop_words"]))


def train(texts: Sequence[str], labels: Sequence[str], *, segmented: Sequence[bool] | bool = False) -> TextModel:
    """Learn the labels of `texts`: raw appeals, or text already segmented into space-separated words
    (one flag per text, or one for all). Needs examples of at least two labels."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("a classifier needs examples of at least two labels")
    strings = [normalise(t, segmented=f) for t, f in zip(texts, _flags(texts, segmented), strict=True)]
    grams, idf, head = _vocabulary(strings)
    model = TextModel(labels=classes, trained_on=len(texts), grams=grams, idf=idf, head=head,
                      weights=np.zeros((len(grams), len(classes)), dtype=np.float32), bias=np.zeros(len(classes)))
    y = np.array([classes.index(label) for label in labels])
    weights, bias = _fit(model._matrix(strings), y)
    model.weights, model.bias = weights.astype(np.float32), bias
    model.temperature, model.short_text = _calibrate(model, strings, y)
    return model


def _fit(x: sparse.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features x labels) and biases of a linear SVM; y holds label numbers, all present."""
    from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

    svm = LinearSVC(C=C, class_weight="balanced", random_state=0).fit(x, y)
    weights, bias = svm.coef_.T, svm.intercept_
    if weights.shape[1] == 1:  # two labels: one score for the second; halve it so the softmax is its sigmoid
        weights, bias = np.hstack([-weights / 2, weights / 2]), np.array([-bias[0] / 2, bias[0] / 2])
    return weights, bias


def _vocabulary(strings: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The features kept, their idf (smoothed as scikit-learn's: ln((1 + n) / (1 + df)) + 1) and which
    are of the head block."""
    df: Counter[str] = Counter()
    for s in strings:
        df.update(_grams(s).keys())
    n = len(strings)
    min_df, max_df = (1, n) if n < SMALL_CORPUS else (2, MAX_DF * n)
    grams = sorted(g for g, d in df.items() if d >= min_df and (g.startswith(HEAD_MARK) or d <= max_df))
    idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in grams])
    head = np.array([g.startswith(HEAD_MARK) for g in grams], dtype=bool)
    return grams, idf, head


def _calibrate(model: TextModel, strings: Sequence[str], y: np.ndarray) -> tuple[float, float]:
    """`temperature` and `short_text` under which out-of-fold scores are likeliest: of the whole texts,
    and of their first PREFIXES characters (what a short appeal looks like), the two sets weighing alike.
    (1.0, 0.0) when some label has too few examples to hold one out. Stratified folds no more than the
    rarest label's count keep every label in every training part."""
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    folds = min(CALIBRATION_FOLDS, int(np.bincount(y).min()))
    if folds < 2:
        return 1.0, 0.0
    rows = np.arange(len(y))
    prefix_rows = np.random.default_rng(0).choice(rows, min(len(rows), PREFIX_SAMPLE), replace=False)
    texts = [*strings, *(strings[i][:n] for n in PREFIXES for i in prefix_rows)]
    owner = np.concatenate([rows, np.tile(prefix_rows, len(PREFIXES))])
    x = model._matrix(texts)
    whole = x[: len(rows)]
    scores = np.zeros((len(texts), len(model.labels)))
    for train_rows, test_rows in StratifiedKFold(folds, shuffle=True, random_state=0).split(rows, y):
        weights, bias = _fit(whole[train_rows], y[train_rows])
        held = np.isin(owner, test_rows)
        scores[held] = np.asarray(x[held] @ weights) + bias
    truth, lengths = y[owner], np.array([len(t) for t in texts])
    weight = np.where(np.arange(len(texts)) < len(rows), 1 / len(rows), 1 / (len(texts) - len(rows)))

    def loss(params: np.ndarray) -> float:
        p = _confidences(scores, lengths, math.exp(params[0]), math.exp(params[1]))[np.arange(len(texts)), truth]
        return float(-(weight * np.log(np.clip(p, 1e-12, None))).sum())

    best = minimize(loss, np.array([math.log(0.2), 0.0]), method="Nelder-Mead")
    return math.exp(best.x[0]), math.exp(best.x[1])


def _confidences(scores: np.ndarray, lengths: np.ndarray, temperature: float, short_text: float) -> np.ndarray:
    """A softmax of the scores, hotter for shorter texts."""
    z = scores / (temperature * (1 + short_text / np.maximum(lengths, 1)))[:, None]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _flags(texts: Sequence[str], segmented: Sequence[bool] | bool) -> list[bool]:
    if isinstance(segmented, bool):
        return [segmented] * len(texts)
    flags = list(segmented)
    if len(flags) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(flags)} segmented flags")
    return flags
