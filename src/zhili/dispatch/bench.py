"""`zhili bench classify`: the appeal classifier on real citizen messages (teddy2020c, see
../shared/data/README.md).

The classifier is trained on the segmented corpus (`train_tokenized.csv`) less the segmented twins of the
messages it is evaluated on, and evaluated on their raw text (`raw_labeled.csv`, or the file given with
`--test`: columns text and label, and optionally twin_row, a row of the corpus to leave out of training),
through the path a live appeal takes: `TextModel.top` on one raw message at a time. In the same run, the
peer: a plain TF-IDF + LinearSVC with scikit-learn's defaults on jieba words (the corpus' own words for
training, `zhili.dispatch.text.tokenize` of the raw text for evaluation). `--size N` evaluates on the
first N messages only.
"""

import csv
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from zhili.bench import BenchContext, benchmark

DEFAULT_DATA = Path("../shared/data/teddy2020c")
CORPUS = "train_tokenized.csv"
EVALUATION = "raw_labeled.csv"
THRESHOLD = 0.6  # a typical auto-dispatch threshold: the share of appeals above it, and how many are right
TARGET_MACRO_F1 = 0.93
TARGET_PER_SECOND = 2000
WARMUP = 20


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _quality(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score  # type: ignore[import-untyped]

    labels = sorted(set(truth))
    per_class = f1_score(truth, predicted, labels=labels, average=None)
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, labels=labels, average="macro")), 4),
        "f1_per_class": {label: round(float(f), 4) for label, f in zip(labels, per_class, strict=True)},
    }


def _one_at_a_time(classify: Callable[[str], object], texts: Sequence[str]) -> dict[str, Any]:
    """Each message on its own, as live appeals arrive, in this one process."""
    for text in texts[:WARMUP]:
        classify(text)
    samples = []
    started = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        classify(text)
        samples.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    samples.sort()
    return {
        "per_second": round(len(texts) / seconds, 1),
        "p50_ms": round(statistics.median(samples) * 1000, 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 3),
    }


def _batch(classify: Callable[[Sequence[str]], object], texts: Sequence[str]) -> float:
    started = time.perf_counter()
    classify(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


@benchmark("classify")
def classify(ctx: BenchContext) -> dict[str, Any]:
    """Appeal classifier on real messages (raw text, one at a time) vs. plain TF-IDF + LinearSVC."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

    from zhili.dispatch.classifier import train
    from zhili.dispatch.text import split_segmented, tokenize

    data = ctx.data or DEFAULT_DATA
    corpus_path, test_path = data / CORPUS, ctx.test or data / EVALUATION
    for path in (corpus_path, test_path):
        if not path.exists():
            raise SystemExit(f"teddy2020c data not found at {path}: pass --data DIR or --test FILE "
                             "(see ../shared/data/README.md)")
    corpus, test = _rows(corpus_path), _rows(test_path)
    left_out = {int(r["twin_row"]) for r in test if (r.get("twin_row") or "").strip()}
    training = [r for i, r in enumerate(corpus) if i not in left_out]
    test = test[: ctx.size] if ctx.size else test
    texts, labels = [r["text"] for r in training], [r["label"] for r in training]
    eval_texts, truth = [r["text"] for r in test], [r["label"] for r in test]

    started = time.perf_counter()
    model = train(texts, labels, segmented=True)
    train_seconds = time.perf_counter() - started
    ranked = [model.top([text], k=3)[0] for text in eval_texts]
    predicted = [r[0][0] for r in ranked]
    confident = [(r[0][1], p == t) for r, p, t in zip(ranked, predicted, truth, strict=True) if r[0][1] >= THRESHOLD]
    ours = {
        **_quality(truth, predicted),
        "top3_accuracy": round(sum(t in {label for label, _ in r} for r, t in zip(ranked, truth, strict=True))
                               / len(truth), 4),
        "training_seconds": round(train_seconds, 2),
        "one_at_a_time": _one_at_a_time(lambda text: model.top([text]), eval_texts),
        "batch_per_second": _batch(model.top, eval_texts),
        "auto_dispatch": {
            "threshold": THRESHOLD,
            "share_above": round(len(confident) / len(truth), 4),
            "accuracy_above": round(sum(ok for _, ok in confident) / len(confident), 4) if confident else None,
            "mean_confidence_above": round(statistics.fmean(c for c, _ in confident), 4) if confident else None,
        },
        "features": len(model.grams),
        "model_bytes": len(model.to_bytes()),
    }

    started = time.perf_counter()
    vectorizer = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False)
    svm = LinearSVC().fit(vectorizer.fit_transform([" ".join(split_segmented(t)) for t in texts]), labels)
    baseline_seconds = time.perf_counter() - started

    def baseline(batch: Sequence[str]) -> list[str]:
        return list(svm.predict(vectorizer.transform([" ".join(tokenize(t)) for t in batch])))

    peer = {
        **_quality(truth, baseline(eval_texts)),
        "training_seconds": round(baseline_seconds, 2),
        "one_at_a_time": _one_at_a_time(lambda text: baseline([text]), eval_texts),
        "batch_per_second": _batch(baseline, eval_texts),
    }
    return {
        "sizes": {"corpus_rows": len(corpus), "left_out_twins": len(left_out), "train_rows": len(training),
                  "eval_rows": len(test), "labels": len(model.labels), "eval_file": str(test_path)},
        "classifier": ours,
        "baseline_tfidf_linearsvc": peer,
        "targets": {"macro_f1": TARGET_MACRO_F1, "per_second_one_at_a_time": TARGET_PER_SECOND,
                    "macro_f1_met": ours["macro_f1"] >= TARGET_MACRO_F1,
                    "per_second_met": ours["one_at_a_time"]["per_second"] >= TARGET_PER_SECOND},
    }
