"""What the process leaves on disk is for its own user only: the data folder, the key, the database files."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.app import App
from bot.settings import load_settings
from tests.factories import make_member

PHONE = "13912345678"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_is_0700_and_the_key_and_every_database_file_0600(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = App(load_settings(data_dir=data))
    app.prepare()
    try:
        with app.sessions() as session:
            make_member(session, phone=PHONE)
        with app.engine.connect():  # the WAL and its shared memory exist while a connection is open
            database = data / "unionbot.db"
            files = [database, data / "unionbot.db-wal", data / "unionbot.db-shm", data / "data.key"]
            assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
            assert mode(data) == 0o700
            for file in files[:2]:
                assert PHONE.encode() not in file.read_bytes()
    finally:
        app.engine.dispose()


def test_database_files_an_older_version_left_open_are_narrowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = data / "unionbot.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    app = App(load_settings(data_dir=data))
    try:
        app.prepare()
        assert mode(old) == 0o600
    finally:
        app.engine.dispose()
