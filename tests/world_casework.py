"""The test world's disputes, petitions, reception days and volunteers: a row of each in town A and in town B (marked 乙镇 / townb), and their
ids in `w.extra_ids` under the path-parameter names the routes use."""

from sqlalchemy.orm import Session

from tests.factories import World


def add(session: Session, w: World) -> None:
    pass
