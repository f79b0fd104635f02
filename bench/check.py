"""``make bench-check``: the three throughput benchmarks, briefly, each against its bare baseline.

A message or a push that quietly grows dearer (issue #19: the menu went from 6 statements to 14)
shows first as CPU. Absolute figures depend on the machine and on whatever else it runs, so each
benchmark is measured against its own bare baseline in the same run, and that ratio is compared
with the one stored in bench/baseline.json:

- **telegram_inbound** (bench_telegram_inbound.py): the echo bot's CPU per message over the full
  bot's (both processes of it), members answering and reopening the language form;
- **wechat_webhook** (bench_wechat_webhook.py): the bare wechatpy webhook's CPU per request over
  the full webhook's (its core's process included), the closed loop;
- **delivery** (bench_delivery.py --renderer notice --bare): the bare python-telegram-bot sender's
  CPU per message over the delivery worker's per push, one real notice to every member.

CPU rather than throughput: on two shared cores the closed loops' rates swing with whatever else
runs, while CPU per request moves far less; the rates are printed beside them for reference.

The check fails when a ratio is more than ``tolerance`` (20 %) below its stored figure. A ratio
that falls short is measured once more and the better of the two counts: a neighbour's burst
of work can spoil one short run, not two. Each benchmark runs on PostgreSQL when it answers
(the production database), else on SQLite; ``--database`` chooses.

Run: ``python bench/check.py [--database auto|sqlite|postgresql|both] [--only NAME] [--record]``.
``--record`` writes this run's ratios into bench/baseline.json instead of comparing (bench/RESULTS.md,
"make bench-check", says when that is right).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import postgres_answers

REPO = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).resolve().parent / "baseline.json"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
TOLERANCE = 0.2


@dataclass(frozen=True)
class Bench:
    """One benchmark as the check runs it: the script, its brief options, and where its ratios are."""

    script: str
    options: tuple[str, ...]
    # (ratio gated, rate against bare for reference, the full side's CPU per request in ms) from the JSON
    read: Callable[[Mapping[str, Any], str], tuple[float, float, float]]


def _full(key: str, rate: str, cpu: str) -> Callable[[Mapping[str, Any], str], tuple[float, float, float]]:
    def read(found: Mapping[str, Any], database: str) -> tuple[float, float, float]:
        full = found[f"full, {database}"]
        return float(full[key]), float(full[rate]), float(full[cpu])

    return read


def _delivery(found: Mapping[str, Any], _database: str) -> tuple[float, float, float]:
    rate_ratio = float(found["rate"]) / float(found["bare_rate"])
    return float(found["ratio"]), rate_ratio, float(found["worker_cpu_ms_per_push"])


BENCHES: dict[str, Bench] = {
    "telegram_inbound": Bench(
        "bench_telegram_inbound.py",
        ("--messages", "600", "--members", "50", "--runs", "1"),
        _full("cpu_echo_over_bot", "rate_vs_echo", "cpu_ms_per_message"),
    ),
    "wechat_webhook": Bench(
        "bench_wechat_webhook.py",
        ("--requests", "1000", "--concurrency", "50", "--members", "100", "--rate", "100", "--seconds", "2"),
        _full("cpu_bare_over_bot", "rate_vs_bare", "cpu_ms_per_request"),
    ),
    "delivery": Bench(
        "bench_delivery.py",
        ("--recipients", "3000", "--renderer", "notice", "--bare"),
        _delivery,
    ),
}


@dataclass(frozen=True)
class Measured:
    ratio: float
    rate_ratio: float
    cpu_ms: float
    seconds: float


def measure(name: str, database: str, postgres_url: str, folder: Path) -> Measured:
    """Run one benchmark once; its output goes to a log, shown when it fails."""
    bench = BENCHES[name]
    figures = folder / f"{name}-{database}.json"
    log = folder / f"{name}-{database}.log"
    command = [
        sys.executable,
        str(Path(__file__).resolve().parent / bench.script),
        *bench.options,
        "--database",
        database,
        "--postgres-url",
        postgres_url,
        "--json",
        str(figures),
    ]
    figures.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    with log.open("w") as out:
        # The benchmarks' own exit status says whether their absolute goals were met: not ours.
        subprocess.run(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - started
    if not figures.exists():
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise RuntimeError(f"{name} on {database} wrote no figures; the end of its output:\n{tail}")
    ratio, rate_ratio, cpu_ms = bench.read(json.loads(figures.read_text()), database)
    return Measured(ratio, rate_ratio, cpu_ms, seconds)


def load_baseline() -> dict[str, Any]:
    if not BASELINE.exists():
        return {"tolerance": TOLERANCE, "ratios": {}}
    found: dict[str, Any] = json.loads(BASELINE.read_text())
    return found


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def check(
    name: str, database: str, args: argparse.Namespace, folder: Path, expected: float | None, tolerance: float
) -> tuple[Measured, str | None]:
    """Measure one benchmark (twice when it falls short); what went wrong, or None."""
    measured = measure(name, database, args.postgres_url, folder)
    if args.record:
        return measured, None
    if expected is None:
        return measured, f"{name} on {database}: no figure in {BASELINE.name} (record one)"
    floor = expected * (1 - tolerance)
    if measured.ratio < floor:
        print(
            f"  {name} on {database}: {measured.ratio:.3f}, short of {expected:.3f}; once more…", flush=True
        )
        again = measure(name, database, args.postgres_url, folder)
        measured = max(measured, again, key=lambda m: m.ratio)
    if measured.ratio < floor:
        return (
            measured,
            f"{name} on {database}: {measured.ratio:.3f} is {tolerance:.0%} or more below {expected:.3f}",
        )
    return measured, None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=("auto", "sqlite", "postgresql", "both"), default="auto")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append", help="this benchmark only")
    parser.add_argument("--record", action="store_true", help="write the ratios to bench/baseline.json")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    args = parser.parse_args(argv[1:])
    postgres = postgres_answers(args.postgres_url)
    if args.database == "auto":
        databases = ["postgresql" if postgres else "sqlite"]
    else:
        databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in databases and not postgres:
        parser.error(f"nothing answers at {args.postgres_url}")
    baseline = load_baseline()
    tolerance = float(baseline.get("tolerance", TOLERANCE))
    stored: dict[str, dict[str, float]] = baseline.setdefault("ratios", {})
    names = args.only or list(BENCHES)
    failed: list[str] = []
    print(f"bench-check: {', '.join(names)} on {', '.join(databases)}; tolerance {tolerance:.0%}", flush=True)
    with tempfile.TemporaryDirectory(prefix="unionbot-bench-check-") as folder:
        for name in names:
            for database in databases:
                expected = stored.get(name, {}).get(database)
                measured, problem = check(name, database, args, Path(folder), expected, tolerance)
                verdict = "recorded" if args.record else "FAILED" if problem else "ok"
                print(
                    f"  {name:<17} {database:<10} ratio {measured.ratio:.3f}"
                    + (f" (baseline {expected:.3f})" if expected is not None else "")
                    + f"; full's CPU {measured.cpu_ms:.2f} ms, rate {measured.rate_ratio:.2f} of bare;"
                    + f" {measured.seconds:.0f} s  {verdict}",
                    flush=True,
                )
                if problem is not None:
                    failed.append(problem)
                if args.record:
                    stored.setdefault(name, {})[database] = round(measured.ratio, 3)
    if args.record:
        baseline["recorded"] = {"commit": git_commit(), "date": datetime.now(UTC).date().isoformat()}
        BASELINE.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n")
        print(f"wrote {BASELINE.relative_to(REPO)}: commit it with the change that moved it")
        return 0
    for failure in failed:
        print(f"FAILED: {failure}")
    print("bench-check: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
