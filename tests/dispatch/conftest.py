import csv

import pytest

from tests.dispatch.corpus import require_data


@pytest.fixture(scope="module")
def messages() -> dict[str, dict[str, str]]:
    """The real unlabelled messages (teddy2020c/unlabeled_messages.csv) by id."""
    with (require_data() / "unlabeled_messages.csv").open(encoding="utf-8") as f:
        return {row["id"]: row for row in csv.DictReader(f)}
