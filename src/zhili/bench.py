"""The benchmark frame (DESIGN.md, "Benchmarks contract").

A benchmark is a function registered with `@benchmark("name")` that takes a `BenchContext` and
returns a dict of figures. The frame adds the backend, the sizes and the machine, and `zhili bench NAME
--json` prints it as one JSON line. Every figure that has a floor or a peer reports it beside itself,
measured in the same run.
"""

import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhili.kit.time import now

BenchFn = Callable[["BenchContext"], dict[str, Any]]
BENCHMARKS: dict[str, BenchFn] = {}


def benchmark(name: str) -> Callable[[BenchFn], BenchFn]:
    def register(fn: BenchFn) -> BenchFn:
        BENCHMARKS[name] = fn
        return fn

    return register


@dataclass
class BenchContext:
    data: Path | None
    test: Path | None
    size: int | None
    database_url: str
    reference: Path | None = None
    orders: int | None = None  # work orders to generate (dashboard)

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url.startswith("postgresql") else "sqlite"


def timings_ms(fn: Callable[[], object], repeat: int, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "n": repeat,
    }


def fresh_database() -> str:
    """A scratch database for one benchmark run: ZHILI_BENCH_DATABASE_URL (emptied) or a temp SQLite file."""
    url = os.environ.get("ZHILI_BENCH_DATABASE_URL")
    if url:
        from sqlalchemy import text

        from zhili.db import make_engine

        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tempfile.mkdtemp(prefix='zhili-bench-')}/bench.db"


def run(name: str, *, data: Path | None = None, test: Path | None = None, size: int | None = None,
        reference: Path | None = None, orders: int | None = None) -> dict[str, Any]:
    load_all()
    url = fresh_database()
    os.environ["ZHILI_DATABASE_URL"] = url
    os.environ.setdefault("ZHILI_ENVIRONMENT", "development")
    from zhili.db import get_engine, reset_caches
    from zhili.migrate import upgrade

    reset_caches()
    upgrade(get_engine())
    ctx = BenchContext(data=data, test=test, size=size, database_url=url, reference=reference, orders=orders)
    started = time.perf_counter()
    figures = BENCHMARKS[name](ctx)
    return {
        "benchmark": name,
        "backend": ctx.backend,
        "date": now().date().isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "seconds": round(time.perf_counter() - started, 2),
        **figures,
    }


def load_all() -> None:
    """Import every domain's bench modules (`bench.py`, `bench_*.py`) so that their @benchmark registrations run."""
    import importlib
    import pkgutil

    import zhili

    for info in pkgutil.walk_packages(zhili.__path__, "zhili."):
        if info.name.rsplit(".", 1)[-1].startswith("bench") and info.name != "zhili.bench":
            importlib.import_module(info.name)
