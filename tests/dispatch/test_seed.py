"""The demo's seed corpus: the teddy2020c labels mapped onto the demo county's 12345 leaves."""

import csv
import random

from tests.dispatch.corpus import require_data
from zhili.dispatch import seed
from zhili.dispatch.classifier import train


def test_the_mapping_files_each_label_under_a_leaf_of_the_catalogue():
    mapping = seed.load_mapping()
    assert mapping.leaf("环境保护", "投诉 工厂 排放 废气") == "12345.TS.HJBH"
    assert mapping.leaf("劳动和社会保障", "咨询 社保 缴费 材料") == "12345.ZX.LDBZ"
    assert mapping.leaf("城乡建设", "举报 违章 搭建") == "12345.JB.CXJS"
    assert mapping.leaf("城乡建设", "建议 增加 公交 线路") == "12345.JY.JTYS"  # the county's transport bureau
    assert mapping.leaf("不存在", "随便") is None


def test_the_demo_classifier_sends_a_bus_route_to_transport():
    """Trained on the whole corpus as the demo maps it (the subject areas; the kind is read by words),
    a message about a bus route goes to 交通运输, a school matter to 教育文体."""
    data = require_data()
    mapping = seed.load_mapping()
    texts, areas = [], []
    with (data / seed.CORPUS).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            leaf = mapping.leaf(row["label"], row["text"])
            assert leaf is not None
            texts.append(row["text"])
            areas.append(leaf.rsplit(".", 1)[1])
    model = train(texts, areas, segmented=True)
    assert model.predict(["建议在青山镇增设一条公交线路，12路公交车班次太少，居民去县城很不方便"]) == ["JTYS"]
    assert model.predict(["孩子明年上小学，想问东门社区对应的是哪所学校，什么时候报名"]) == ["JYWT"]
    # and it learnt the corpus as a whole: most of a random sample of its own rows come back right
    sample = random.Random(7).sample(range(len(texts)), 300)
    right = sum(p == areas[i] for p, i in zip(model.predict([texts[i] for i in sample], segmented=True), sample,
                                              strict=True))
    assert right / len(sample) > 0.9
