"""Every test runs against a real database: SQLite by default, PostgreSQL when
ZHILI_TEST_DATABASE_URL points at it (`make test` runs both passes).

The schema is built once per run by the Alembic migrations; each test starts from empty tables.
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="zhili-test-"))
TEST_DB_URL = os.environ.get("ZHILI_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"

os.environ.update(
    ZHILI_DATABASE_URL=TEST_DB_URL,
    ZHILI_ENVIRONMENT="test",
    ZHILI_SECRET_KEY="test-secret-key-that-is-not-the-default",
    ZHILI_ARGON2_TIME_COST="1",
    ZHILI_ARGON2_MEMORY_COST_KIB="1024",
    ZHILI_UPLOAD_MAX_BYTES=str(2 * 1024 * 1024),
    ZHILI_IMPORT_MAX_BYTES=str(4 * 1024 * 1024),
)

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from zhili.db import Base, get_engine, get_sessionmaker, reset_caches  # noqa: E402
from zhili.kit.recent import forget_all  # noqa: E402
from zhili.migrate import upgrade  # noqa: E402


def _postgres_reachable(url: str) -> str | None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except Exception as exc:  # any reason at all: report it in one line
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    reset_caches()
    if TEST_DB_URL.startswith("postgresql"):
        reason = _postgres_reachable(TEST_DB_URL)
        if reason:
            if os.environ.get("CI") == "true":
                pytest.exit(f"PostgreSQL at {TEST_DB_URL} is unreachable under CI=true: {reason}", returncode=1)
            pytest.exit(f"skipping the PostgreSQL pass: {TEST_DB_URL} is unreachable ({reason})", returncode=0)
        with get_engine().begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(get_engine())


def _empty_all_tables() -> None:
    engine = get_engine()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)] + ["alembic_version"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql" and not conn.scalar(text("SELECT rolsuper FROM pg_roles "
                                                                         "WHERE rolname = current_user")):
            names = ", ".join(f'"{t}"' for t in tables if t != "alembic_version")
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        elif engine.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: a test leaves a few rows in each table, and TRUNCATE's cost is per
            # table (a new file each), about 190 ms for the whole schema against 20 ms for this. The
            # foreign-key triggers are off for it (a superuser's setting; others TRUNCATE, above), and
            # every used sequence starts over.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for t in tables:
                if t != "alembic_version":
                    conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
                              "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"))
        else:
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))  # regions reference each other
            for t in tables:
                if t != "alembic_version":
                    conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture(autouse=True)
def _clean_database() -> Iterator[None]:
    yield
    _empty_all_tables()
    forget_all()  # what the process kept of the rows just deleted (zhili.kit.recent)


@pytest.fixture
def db_session() -> Iterator[Session]:
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture(scope="session")
def app():  # type: ignore[no-untyped-def]
    from zhili.app import create_app

    return create_app()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def world(db_session: Session):  # type: ignore[no-untyped-def]
    from tests.factories import build_world

    w = build_world(db_session)
    db_session.commit()
    return w
