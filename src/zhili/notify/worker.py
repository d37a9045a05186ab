"""A background worker process for PostgreSQL deployments (`zhili worker`): the deadline sweep and the
outbox sender in a plain loop, and beside it a thread filing queued appeals (zhili.intake). Run as many
as you like on as many machines as you like; row locks (`FOR UPDATE SKIP LOCKED`) and compare-and-set
claims keep them from acting twice. Web processes then run with ZHILI_RUN_BACKGROUND=false. On SQLite
the web process does this work itself (one process), because live events published here could not
reach another process's subscribers."""

import logging
import threading
import time

from zhili.config import get_settings
from zhili.db import get_sessionmaker
from zhili.kit.time import now
from zhili.work_order.tasks import SessionFactory, run_once

log = logging.getLogger("zhili.worker")


def run_forever(interval: float | None = None, rounds: int | None = None) -> None:
    """Sweep and deliver every `interval` seconds (settings.sweep_interval_seconds by default), until
    interrupted or, when given, after `rounds` rounds. An error is logged and the next round goes on."""
    from zhili.intake import service as intake

    wait = float(interval if interval is not None else get_settings().sweep_interval_seconds)
    factory = get_sessionmaker()
    stop = threading.Event()
    filer = threading.Thread(target=intake.run_forever, args=(factory, stop), name="zhili-intake", daemon=True)
    filer.start()  # queued appeals are filed as they come, not once a round
    try:
        _rounds(factory, wait, rounds)
    finally:
        stop.set()
        filer.join(timeout=10)


def _rounds(factory: SessionFactory, wait: float, rounds: int | None) -> None:
    done = 0
    while rounds is None or done < rounds:
        started = time.monotonic()
        try:
            counts = run_once(factory, now())
            if any(counts.values()):
                log.info("worker round: %s", counts)
        except Exception:
            log.exception("worker round failed")
        done += 1
        if rounds is None or done < rounds:
            time.sleep(max(0.0, wait - (time.monotonic() - started)))
