"""A roster import on SQLite in one transaction, then committed chunk by chunk: what batching costs.

``members import`` commits every 500 rows on SQLite so chat can write in between
(models.roster.import_roster); this measures the price of those commits against
one transaction, on the same generated rows, alternately, three times.

Run: ``.venv/bin/python bench/bench_roster_batches.py [ROWS]``
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_roster_import

from bot import database
from models import sealed
from models.db import SessionFactory, make_engine
from models.roster import Batches, import_roster, validate_rows


def main(argv: list[str]) -> int:
    rows = int(argv[1]) if len(argv) > 1 else 10_000
    sealed.use_key(secrets.token_bytes(32))
    valid, problems = validate_rows(bench_roster_import.roster(rows))
    if problems:
        raise SystemExit(f"{len(problems)} generated rows refused, first {problems[0]!r}")
    with tempfile.TemporaryDirectory(prefix="unionbot-bench-") as folder:
        for attempt in range(3):
            for mode in ("one transaction", "batched"):
                engine = make_engine(f"sqlite:///{folder}/{mode[0]}{attempt}.db")
                database.upgrade(engine)
                sessions = SessionFactory(engine)
                start = time.perf_counter()
                with sessions() as session:
                    import_roster(session, valid, batches=Batches("bench") if mode == "batched" else None)
                print(f"{mode:<16} {rows:>7} rows  {time.perf_counter() - start:6.2f} s", flush=True)
                engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
