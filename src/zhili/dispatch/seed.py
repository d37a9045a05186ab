"""The classifier's seed corpus: labelled messages a deployment starts from, filed under its own
category leaves through a mapping file. The demo seeds from the teddy2020c corpus
(`teddy2020c_mapping.toml`), so its classifier starts trained on real citizen messages."""

import csv
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from zhili.models import Category, ClassifierExample, ExampleSource

MAPPING = Path(__file__).with_name("teddy2020c_mapping.toml")
CORPUS = "train_tokenized.csv"  # text (segmented, space-separated), label
BATCH = 2000


@dataclass(frozen=True)
class Mapping:
    areas: dict[str, str]  # corpus label → subject-area code
    kinds: list[tuple[str, tuple[str, ...]]]  # (kind code, words), first match wins
    default_kind: str
    moves: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # (label, area, words)

    def leaf(self, label: str, text: str) -> str | None:
        area = self.areas.get(label)
        if area is None:
            return None
        area = next((a for moved, a, words in self.moves if moved == label and any(w in text for w in words)), area)
        kind = next((k for k, words in self.kinds if any(w in text for w in words)), self.default_kind)
        return f"12345.{kind}.{area}"


def load_mapping(path: Path = MAPPING) -> Mapping:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return Mapping(areas=dict(raw["areas"]), default_kind=raw["default_kind"],
                   kinds=[(k["kind"], tuple(k["words"])) for k in raw.get("kinds", [])],
                   moves=[(m["label"], m["area"], tuple(m["words"])) for m in raw.get("moves", [])])


def seed_examples(session: Session, data_dir: Path, mapping: Mapping | None = None) -> int:
    """Insert the corpus as seed examples under the leaves the mapping names (those that exist and
    are active); returns how many. Idempotent: a corpus already seeded is not seeded twice."""
    if session.scalar(select(ClassifierExample.id).where(ClassifierExample.source == ExampleSource.seed).limit(1)):
        return 0
    mapping = mapping or load_mapping()
    leaves = set(session.scalars(select(Category.code).where(Category.active)))
    rows: list[dict[str, object]] = []
    with (data_dir / CORPUS).open(encoding="utf-8", newline="") as f:
        for record in csv.DictReader(f):
            code = mapping.leaf(record["label"], record["text"])
            if code in leaves and record["text"].strip():
                rows.append({"text": record["text"], "category_code": code, "source": ExampleSource.seed,
                             "segmented": True})
    for start in range(0, len(rows), BATCH):
        session.execute(insert(ClassifierExample), rows[start:start + BATCH])
    return len(rows)
