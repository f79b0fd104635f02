"""The soak, three minutes of it: bench/soak.py with the checks `make soak` applies for 30.

Two bot processes on PostgreSQL + Redis under 50 messages a second on both channels,
a notice to 20,000 members and a scheduled job going out meanwhile: after the first
minute (the bots' first use of everything, under full load) no errors, p99 reply
latency within WeChat's 5 s, memory flat, pushes at 80 % of the configured rate.
UNIONBOT_SOAK_MINUTES changes the length. Needs PostgreSQL and
Redis (UNIONBOT_TEST_DATABASE_URL, UNIONBOT_TEST_REDIS_URL): two processes share
work only there.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL


def _driver() -> ModuleType:
    """bench/soak.py, the driver `make soak` runs (bench/ is scripts, not a package)."""
    path = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
    spec = importlib.util.spec_from_file_location("soak", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


soak = _driver()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (TEST_DATABASE_URL and TEST_REDIS_URL),
        reason="the soak runs two bot processes, which share work only on PostgreSQL + Redis: "
        "set UNIONBOT_TEST_DATABASE_URL and UNIONBOT_TEST_REDIS_URL",
    ),
]

MINUTES = float(os.environ.get("UNIONBOT_SOAK_MINUTES", "3"))


async def test_two_bots_under_steady_chat_a_large_notice_and_a_job(tmp_path: Path) -> None:
    assert TEST_DATABASE_URL is not None
    assert TEST_REDIS_URL is not None
    args = soak.parse_args(
        [
            "--minutes",
            str(MINUTES),
            "--postgres-url",
            TEST_DATABASE_URL,
            "--redis-url",
            TEST_REDIS_URL,
            # A short run still warms up in its second quarter: more room than the 30 minutes' 15 %.
            "--rss-growth-max",
            "0.25",
            "--out",
            str(tmp_path / "soak.json"),
        ]
    )
    summary, failed = await soak.soak(args)
    assert not failed, (failed, summary)
    assert summary["messages"] >= args.rate * MINUTES * 60 * 0.95
