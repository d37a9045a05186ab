"""Per-key rate limits, shared by every server process: a fixed one-minute window counted in the
database (`rate_counters`), in its own short transaction so that the request's own work never holds
the counter row."""

import time

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from zhili.db import get_engine
from zhili.errors import TooManyRequests
from zhili.kit.i18n import _
from zhili.models import RateCounter

WINDOW_SECONDS = 60


def _count(conn: Connection, key_id: int, window: int) -> int:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(RateCounter).values(key_id=key_id, window=window, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=[RateCounter.key_id, RateCounter.window],
                                      set_={"count": RateCounter.count + 1}).returning(RateCounter.count)
    return int(conn.execute(stmt).scalar_one())


def hit(key_id: int, limit: int) -> None:
    """Count one request of `key_id`; TooManyRequests (429, Retry-After) once it passes `limit` a minute."""
    clock = time.time()
    window = int(clock // WINDOW_SECONDS)
    with get_engine().begin() as conn:
        if conn.dialect.name == "postgresql":
            # A lost count after a crash is harmless; not waiting for the WAL flush keeps the row hot.
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        count = _count(conn, key_id, window)
    if count > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - clock + 0.999))
        raise TooManyRequests(_("请求过于频繁：该 API 密钥每分钟最多 {n} 次请求，请 {s} 秒后重试",
                                n=limit, s=retry_after), retry_after)


def forget_old(conn: Connection) -> int:
    """Drop the counters of finished windows (run by the background sweep)."""
    current = int(time.time() // WINDOW_SECONDS)
    return conn.execute(delete(RateCounter).where(RateCounter.window < current - 1)).rowcount or 0



