"""The appeal classifier: on a slice of the real teddy2020c corpus (skipped when ../shared/data is absent,
failed under CI) and on small made-up cases."""

import csv
import io
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

from zhili.dispatch.classifier import TextModel, normalise, train

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "teddy2020c"
TRAIN_ROWS = 1500
HELD_OUT = 300
# The government's taxonomy files city buses under 城乡建设 (城市建设和市政管理 / 公共汽车, taxonomy.csv),
# and so does the corpus (51 of the 70 messages naming 公交 in one of the two); taxis and parcels are 交通运输.
BUS_ROUTE = "市民反映：12路公交线路调整后站点太远，早高峰等车要半个小时，希望公交公司恢复原来的公交线路"
TAXI = "火车站的出租车司机拒载短途乘客，还不打表乱收费，希望交通运输部门加强出租车管理"
CLEAR = "孩子所在的小学课后托管乱收费，学校强制学生订购教辅资料，希望教育局调查处理"


def _require_data() -> Path:
    if not DATA.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"teddy2020c data is absent under CI: {DATA}")
        pytest.skip(f"teddy2020c data is absent: {DATA} (see ../shared/data/README.md)")
    return DATA


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, str]]:
    return _rows(_require_data() / "train_tokenized.csv")


@pytest.fixture(scope="module")
def held_out() -> list[dict[str, str]]:
    """Raw messages whose segmented twins the model never sees."""
    return random.Random(0).sample(_rows(_require_data() / "raw_labeled.csv"), HELD_OUT)


@pytest.fixture(scope="module")
def model(corpus: list[dict[str, str]], held_out: list[dict[str, str]]) -> TextModel:
    twins = {int(r["twin_row"]) for r in held_out}
    rows = random.Random(1).sample([r for i, r in enumerate(corpus) if i not in twins], TRAIN_ROWS)
    return train([r["text"] for r in rows], [r["label"] for r in rows], segmented=True)


def test_learns_from_the_segmented_corpus_to_classify_raw_appeals(
        model: TextModel, held_out: list[dict[str, str]]) -> None:
    predicted = model.predict([r["text"] for r in held_out])
    accuracy = sum(p == r["label"] for p, r in zip(predicted, held_out, strict=True)) / len(held_out)
    assert len(model.labels) == 7 and model.trained_on == TRAIN_ROWS
    assert accuracy > 0.8  # chance is about 0.2


def test_raw_text_and_its_segmented_twin_get_the_same_label(
        model: TextModel, corpus: list[dict[str, str]], held_out: list[dict[str, str]]) -> None:
    raw = model.predict([r["text"] for r in held_out])
    twins = model.predict([corpus[int(r["twin_row"])]["text"] for r in held_out], segmented=True)
    assert sum(a == b for a, b in zip(raw, twins, strict=True)) / len(held_out) > 0.95


def test_bus_routes_go_to_urban_construction_and_taxis_to_transport(model: TextModel) -> None:
    assert model.predict([BUS_ROUTE, TAXI]) == ["城乡建设", "交通运输"]


def test_confidences_are_sorted_probabilities(model: TextModel, held_out: list[dict[str, str]]) -> None:
    texts = [r["text"] for r in held_out[:50]] + ["", "你好"]
    for ranked in model.top(texts, k=len(model.labels)):
        confidences = [c for _, c in ranked]
        assert all(0.0 <= c <= 1.0 for c in confidences)
        assert confidences == sorted(confidences, reverse=True)
        assert sum(confidences) == pytest.approx(1.0)
        assert sorted(label for label, _ in ranked) == model.labels
    assert [len(r) for r in model.top(texts[:3])] == [3, 3, 3]


def test_a_clear_appeal_is_confident_and_an_empty_one_is_not(model: TextModel) -> None:
    clear, empty, greeting = model.top([CLEAR, "", "你好！"], k=1)
    assert clear[0][0] == "教育文体" and clear[0][1] > 0.6
    assert empty[0][1] < 0.6 and greeting[0][1] < 0.6


def test_one_text_at_a_time_scores_as_a_batch_does(model: TextModel, held_out: list[dict[str, str]]) -> None:
    texts = [r["text"] for r in held_out[:20]]
    one_by_one = np.vstack([model.probabilities([t]) for t in texts])
    assert np.allclose(one_by_one, model.probabilities(texts))


def test_bytes_round_trip_keeps_every_prediction(model: TextModel, held_out: list[dict[str, str]]) -> None:
    texts = [r["text"] for r in held_out[:100]]
    loaded = TextModel.from_bytes(model.to_bytes())
    assert loaded.labels == model.labels and loaded.trained_on == model.trained_on
    assert loaded.top(texts) == model.top(texts)


def test_raw_corrections_and_segmented_corpus_train_together(
        corpus: list[dict[str, str]], held_out: list[dict[str, str]]) -> None:
    twins = {int(r["twin_row"]) for r in held_out}
    segmented = random.Random(2).sample([r for i, r in enumerate(corpus) if i not in twins], 800)
    raw, evaluation = held_out[:150], held_out[150:]
    mixed = train([r["text"] for r in segmented + raw], [r["label"] for r in segmented + raw],
                  segmented=[True] * len(segmented) + [False] * len(raw))
    predicted = mixed.predict([r["text"] for r in evaluation])
    assert mixed.trained_on == 950
    assert sum(p == r["label"] for p, r in zip(predicted, evaluation, strict=True)) / len(evaluation) > 0.7


# Without the data ----------------------------------------------------------------------------------------

SMALL = [
    ("小区路灯坏了晚上很黑", "城乡建设"), ("楼道的路灯不亮", "城乡建设"), ("小区门口道路破损坑洼", "城乡建设"),
    ("路面塌陷需要修补", "城乡建设"), ("下水道堵塞污水外溢", "城乡建设"), ("小区绿化带被占用", "城乡建设"),
    ("学校食堂饭菜质量差", "教育文体"), ("幼儿园乱收费", "教育文体"), ("学生课业负担太重", "教育文体"),
    ("学校周边网吧接纳学生", "教育文体"), ("老师体罚学生", "教育文体"), ("中学招生不公平", "教育文体"),
]


def test_normalise_keeps_chinese_characters_and_cuts_stop_words() -> None:
    assert normalise("A3区的公交车12路，我们等了很久!") == "区公交车路久"
    segmented = normalise("我们 小区 的 路灯 坏 了 A3 区", segmented=True)
    assert segmented == normalise("我们小区的路灯坏了A3区") == "小区路灯坏区"


def test_two_labels_learn_from_a_few_raw_appeals() -> None:
    model = train([t for t, _ in SMALL], [label for _, label in SMALL])
    assert model.labels == ["城乡建设", "教育文体"]
    assert model.predict(["路灯坏了", "学校收费"]) == ["城乡建设", "教育文体"]
    assert model.probabilities(["路灯坏了"]).sum() == pytest.approx(1.0)


def test_training_needs_two_labels_and_one_label_per_text() -> None:
    with pytest.raises(ValueError, match="two labels"):
        train(["路灯坏了", "路面破损"], ["城乡建设", "城乡建设"])
    with pytest.raises(ValueError, match="labels"):
        train(["路灯坏了", "学校收费"], ["城乡建设"])
    with pytest.raises(ValueError, match="segmented"):
        train(["路灯坏了", "学校收费"], ["城乡建设", "教育文体"], segmented=[True])


def test_a_model_of_another_format_is_refused() -> None:
    data = train([t for t, _ in SMALL], [label for _, label in SMALL]).to_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays["meta"].tobytes().decode())
    arrays["meta"] = np.frombuffer(json.dumps({**meta, "format": 0}).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with pytest.raises(ValueError, match="format 0"):
        TextModel.from_bytes(buffer.getvalue())
