"""`zhili bench hotspots`: hot issues (热点问题) found in a city's real message board.

Reads the Teddy Cup 2020 problem C messages (`../shared/data/teddy2020c/hot_issue_messages.csv`: 4,303
citizen messages with their subject, time, author and likes), runs `hotspots.cluster` over them and
reports the clusters of at least MIN_CALLERS distinct callers: how many, their sizes, the top five by
heat, and the seconds the clustering took (the tokenizer's dictionary loaded beforehand, and timed apart).

`--reference FILE` (CSV: message id, issue label; a header row is skipped) scores the whole partition
(`min_callers=1`, so that every message has a cluster) over the messages the file names: adjusted Rand
index, purity (how much of each found cluster is one reference issue), inverse purity (how much of each
reference issue one found cluster holds) and outsiders (see `_partition_scores`). The peer, scored in
the same run on the same messages: plain TF-IDF (character 2-3-grams of subject and text) with connected
components at a few cosine thresholds, without place keys or time window.

`--size N` takes the first N messages; an N larger than the file repeats the messages (each copy a day
later, by other callers) to measure time and memory at that size.
"""

import csv
import resource
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import scipy.sparse as sp

from zhili.bench import BenchContext, benchmark
from zhili.dispatch import hotspots
from zhili.dispatch.hotspots import Cluster, Message
from zhili.dispatch.text import tokenize

DEFAULT_DATA = Path("../shared/data/teddy2020c/hot_issue_messages.csv")
TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S")
TOP = 5
SIZE_BINS = ((3, 4), (5, 9), (10, 19), (20, 49), (50, None))  # messages per cluster
PEER_THRESHOLDS = (0.1, 0.15, 0.2)  # cosine; 0.1 scores the peer's best adjusted Rand index on the reference
PEER_BLOCK = 500  # rows of the peer's similarity computed at once


def load(path: Path) -> list[Message]:
    """The board's messages: the subject is the title, 点赞数 (likes) the support; 反对数 is not support."""
    with path.open(encoding="utf-8", newline="") as f:
        return [Message(id=row["id"], title=row["subject"], text=row["detail"], at=_time(row["time"]),
                        caller=row["user"], support=int(row["likes"] or 0))
                for row in csv.DictReader(f)]


def _time(value: str) -> datetime:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    raise ValueError(f"unreadable time {value!r}")


def _sized(messages: list[Message], size: int | None) -> list[Message]:
    if size is None or size <= len(messages):
        return messages[:size]
    out: list[Message] = []
    copy = 0
    while len(out) < size:
        out += [m if not copy else replace(m, id=f"{m.id}~{copy}", caller=f"{m.caller}~{copy}",
                                           at=m.at + timedelta(days=copy))
                for m in messages[:size - len(out)]]
        copy += 1
    return out


def read_reference(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.reader(f) if len(r) >= 2]
    if rows and not rows[0][0].strip().isdigit():
        rows = rows[1:]  # a header
    return {r[0].strip(): r[1].strip() for r in rows}


def scores(truth: Sequence[str], found: Sequence[int]) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score  # type: ignore[import-untyped]
    from sklearn.metrics.cluster import contingency_matrix  # type: ignore[import-untyped]

    table = contingency_matrix(truth, found)
    return {"adjusted_rand_index": round(float(adjusted_rand_score(truth, found)), 4),
            "purity": round(float(table.max(axis=0).sum() / table.sum()), 4),
            "inverse_purity": round(float(table.max(axis=1).sum() / table.sum()), 4)}


def plain_tfidf(messages: Sequence[Message], threshold: float) -> dict[str, int]:
    """The peer: each message's cluster number from TF-IDF over character 2-3-grams of subject and the
    text's start, linked at cosine >= threshold, connected components; no place keys, no time window."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    texts = [f"{m.title} {m.text[:hotspots.TEXT_CHARS]}" for m in messages]
    vectors = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True, max_df=0.5).fit_transform(texts)
    blocks = []
    for start in range(0, vectors.shape[0], PEER_BLOCK):
        block = vectors[start:start + PEER_BLOCK] @ vectors.T
        block.data[block.data < threshold] = 0
        block.eliminate_zeros()
        blocks.append(block)
    _count, labels = connected_components(sp.vstack(blocks), directed=False)
    return {m.id: int(label) for m, label in zip(messages, labels, strict=True)}


def _summary(c: Cluster) -> dict[str, Any]:
    return {"label": c.label, "place": c.place, "keywords": c.keywords, "messages": c.messages,
            "callers": c.callers, "support": c.support, "growth": c.growth, "heat": round(c.heat, 3),
            "first": c.first.isoformat(sep=" "), "last": c.last.isoformat(sep=" ")}


def _histogram(sizes: list[int]) -> dict[str, int]:
    out = {}
    for low, high in SIZE_BINS:
        key = f"{low}+" if high is None else f"{low}-{high}"
        out[key] = sum(1 for s in sizes if s >= low and (high is None or s <= high))
    return out


@benchmark("hotspots")
def hotspots_bench(ctx: BenchContext) -> dict[str, Any]:
    """Hot issues of a city's message board (Teddy Cup 2020 C): clusters, top five by heat, seconds; with
    --reference, adjusted Rand index and purity against hand labels, beside plain TF-IDF."""
    path = ctx.data or DEFAULT_DATA
    if path.is_dir():
        path = path / DEFAULT_DATA.name
    if not path.exists():
        raise SystemExit(f"hot-issue messages not found at {path}: pass --data FILE (see ../shared/data/README.md)")
    messages = _sized(load(path), ctx.size)
    started = time.perf_counter()
    tokenize("预热")  # loads jieba's dictionary, once per process
    dictionary_seconds = time.perf_counter() - started
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    found = hotspots.cluster(messages)
    seconds = time.perf_counter() - started
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    sizes = sorted((c.messages for c in found), reverse=True)
    figures: dict[str, Any] = {
        "sizes": {"messages": len(messages), "callers": len({m.caller for m in messages}),
                  "first": min(m.at for m in messages).isoformat(sep=" "),
                  "last": max(m.at for m in messages).isoformat(sep=" "), "data": str(path)},
        "settings": {"min_callers": hotspots.MIN_CALLERS, "similarity": hotspots.SIMILARITY,
                     "area_similarity": hotspots.AREA_SIMILARITY, "strong_similarity": hotspots.STRONG_SIMILARITY,
                     "window_days": hotspots.WINDOW_DAYS, "growth_days": hotspots.GROWTH_DAYS},
        "clusters": len(found),
        "messages_in_clusters": sum(sizes),
        "messages_unclustered": len(hotspots.unclustered(messages, found)),
        "largest_sizes": sizes[:10],
        "size_histogram": _histogram(sizes),
        "top": [_summary(c) for c in found[:TOP]],
        "cluster_seconds": round(seconds, 3),
        "dictionary_seconds": round(dictionary_seconds, 3),
        "peak_rss_growth_mb": round(rss_growth / 1024, 1),  # ru_maxrss is in KiB on Linux
    }
    if ctx.reference:
        figures["reference"] = _score_reference(messages, read_reference(ctx.reference), ctx.reference)
    return figures


def _score_reference(messages: list[Message], reference: dict[str, str], path: Path) -> dict[str, Any]:
    known = {m.id for m in messages}
    ids = [i for i in reference if i in known]
    truth = [reference[i] for i in ids]
    issues = Counter(truth)
    partition = hotspots.cluster(messages, min_callers=1)
    ours = {i: number for number, c in enumerate(partition) for i in c.ids}
    return {
        "file": str(path),
        "messages": len(ids),
        "missing_from_data": len(reference) - len(ids),
        "issues": len(issues),
        "issues_of_two_or_more": sum(1 for n in issues.values() if n >= 2),
        "hotspots": _partition_scores(ids, truth, ours, reference),
        "peer_plain_tfidf": [{"threshold": t, **_partition_scores(ids, truth, plain_tfidf(messages, t), reference)}
                             for t in PEER_THRESHOLDS],
    }


def _partition_scores(ids: list[str], truth: list[str], found: dict[str, int],
                      reference: dict[str, str]) -> dict[str, Any]:
    """Scores over the reference's messages, and two views of the whole partition: the largest cluster,
    and the outsiders, the messages the reference does not name in the clusters that hold those it names
    (the reference names every message of its issues that could be found by reading, so an outsider is
    mostly a wrong merge)."""
    members = Counter(found.values())
    touched = {found[i] for i in ids}
    return {**scores(truth, [found[i] for i in ids]),
            "outsiders": sum(1 for i, number in found.items() if number in touched and i not in reference),
            "largest_cluster": max(members.values())}
