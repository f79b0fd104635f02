"""SQLite engines: the settings a union of 100,000 members needs to stay fast (bench/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path

from models.db import SQLITE_CACHE_KIB, SQLITE_MMAP_BYTES, make_engine


def test_every_connection_keeps_a_large_page_cache_and_reads_through_a_memory_map(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'unionbot.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar_one() == -SQLITE_CACHE_KIB
            assert connection.exec_driver_sql("PRAGMA mmap_size").scalar_one() == SQLITE_MMAP_BYTES
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    finally:
        engine.dispose()


def test_the_connection_used_last_is_used_next_so_its_cache_is_warm(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'unionbot.db'}")
    try:
        first, second = engine.connect(), engine.connect()
        first_id = id(first.connection.dbapi_connection)
        second.close()
        first.close()  # returned last
        with engine.connect() as again:
            assert id(again.connection.dbapi_connection) == first_id
    finally:
        engine.dispose()


def test_a_database_in_memory_still_opens() -> None:
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1
    finally:
        engine.dispose()
