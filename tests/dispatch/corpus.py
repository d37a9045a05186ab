"""The real teddy2020c messages the smart-dispatch tests train on (../shared/data/teddy2020c)."""

import csv
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import World
from zhili.category.service import add_category
from zhili.db import get_sessionmaker
from zhili.dispatch import seed, service
from zhili.models import Category, CategoryKind, ClassifierExample, ExampleSource

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "teddy2020c"
PER_LABEL = 120  # messages of each label: enough to learn, quick to train
LABELS = {"城乡建设": "T.SRGL", "交通运输": "T.JTYS", "教育文体": "T.JYWT"}
BUS = "市民反映12路公交车经常晚点，公交线路调整后站点太远，希望公交公司增加班次，方便群众乘坐公交出行"


def require_data() -> Path:
    if not (DATA / seed.CORPUS).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"teddy2020c data is absent under CI: {DATA}")
        pytest.skip(f"teddy2020c data is absent: {DATA} (see ../shared/data/README.md)")
    return DATA


def train_on_slice(session: Session, world: World) -> service.Retrained:
    """The world's categories plus 交通运输 and 教育文体 leaves (the county's 住建局 by default), seeded
    with real messages of three labels (城乡建设 under T.SRGL), and a first classifier version."""
    data = require_data()
    root = session.scalars(select(Category).where(Category.code == "T")).one()
    add_category(session, root, "T.JTYS", "交通运输", CategoryKind.appeal, world.departments["D-COUNTY-ZJ"])
    add_category(session, root, "T.JYWT", "教育文体", CategoryKind.appeal, world.departments["D-COUNTY-ZJ"])
    taken = dict.fromkeys(LABELS, 0)
    with (data / seed.CORPUS).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["label"] in LABELS and taken[row["label"]] < PER_LABEL:
                taken[row["label"]] += 1
                session.add(ClassifierExample(text=row["text"], category_code=LABELS[row["label"]],
                                              source=ExampleSource.seed, segmented=True))
    session.commit()
    done = service.retrain(get_sessionmaker())
    assert done is not None and done.examples == len(LABELS) * PER_LABEL
    return done
