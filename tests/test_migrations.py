from zhili.db import get_engine
from zhili.migrate import is_current, pending_changes


def test_models_and_migrations_agree():
    """The test database was built by the migrations; autogenerate must find nothing to add."""
    engine = get_engine()
    assert is_current(engine)
    assert pending_changes(engine) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys():
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL has neither pragma; the other test covers it
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
