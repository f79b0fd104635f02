"""What the benchmarks share: a throwaway database, CPU readings, percentiles, the machine line.

Not a benchmark itself (``make bench`` runs ``bench/bench_*.py`` only); each
script imports it from its own folder.
"""

from __future__ import annotations

import base64
import math
import os
import platform
import resource
import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import sqlalchemy as sa

from bot import database
from models import sealed
from models.db import SessionFactory, make_engine
from tests.conftest import drop_postgres_schema, postgres_engine

# Members' phones are sealed with the data key (models/sealed.py). The benchmarks' databases are
# throwaway: one fixed key for this process and every core process it starts (they read the setting).
os.environ.setdefault("UNIONBOT_DATA_KEY", base64.urlsafe_b64encode(bytes(range(32))).decode())
sealed.use_key(base64.urlsafe_b64decode(os.environ["UNIONBOT_DATA_KEY"]))


@dataclass(frozen=True)
class Database:
    name: str  # "sqlite" or "postgresql"
    url: str
    schema: str | None = None


@contextmanager
def fresh_database(
    kind: str,
    workdir: Path,
    postgres_url: str,
    *,
    seed: Callable[[SessionFactory], None],
    schema_prefix: str,
) -> Iterator[Database]:
    """A migrated database (an SQLite file or a PostgreSQL schema) filled by ``seed``; dropped after."""
    label = uuid.uuid4().hex[:8]
    if kind == "sqlite":
        db = Database(kind, f"sqlite:///{workdir / f'bench-{label}.db'}")
        engine = make_engine(db.url)
    else:
        db = Database(kind, postgres_url, f"{schema_prefix}_{os.getpid()}_{label}")
        assert db.schema is not None
        engine = postgres_engine(postgres_url, db.schema)
    try:
        try:
            database.upgrade(engine)
            seed(SessionFactory(engine))
        finally:
            engine.dispose()
        yield db
    finally:
        if db.schema is not None:
            drop_postgres_schema(postgres_url, db.schema)


def postgres_answers(url: str) -> bool:
    parsed = sa.engine.make_url(url)
    try:
        socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), timeout=1).close()
    except OSError:
        return False
    return True


def postgres_version(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(sa.text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def own_cpu() -> float:
    """CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def machine(databases: Sequence[str], postgres_url: str, libraries: Sequence[str]) -> str:
    """One line naming the machine and the versions that shaped the figures."""
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    parts = [
        f"{os.cpu_count()} cores" + (f" ({cpu})" if cpu else ""),
        f"{memory:.0f} GB RAM",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
        *(f"{name} {version(name)}" for name in libraries),
        f"SQLAlchemy {sa.__version__}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    if "postgresql" in databases:
        parts.append(f"psycopg {version('psycopg')}, PostgreSQL {postgres_version(postgres_url)}")
    return ", ".join(parts)
