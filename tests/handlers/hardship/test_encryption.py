"""Encryption at rest: after a whole case in chat, neither a copy of the database nor the media folder
shows what the member confided or what the cadres wrote about the family.

The SQLite file (with its journal) is read byte by byte; PostgreSQL is dumped with ``pg_dump`` and,
row by row, as raw column values. Every phrase below went through the chat: in the form, where the
answers wait in the dialog's row, and in the case's tables.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import sqlalchemy as sa
import time_machine
from sqlmodel import SQLModel

from handlers.core.messages import Media, MediaKind
from handlers.core.router import Bot
from models.db import SessionFactory
from tests.conftest import TEST_DATABASE_URL
from tests.handlers.conftest import Chat
from tests.handlers.hardship.people import NOW, Union, hardship_bot, union

__all__ = ["hardship_bot", "union"]

STORY = "独家暗号甲：女儿白血病住院化疗"
CONTACT = "独家暗号乙：只在周三傍晚打电话"
FAMILY = "独家暗号丙：家中四口人租住地下室"
NOTE = "独家暗号丁：本人曾提到轻生念头"
REASON = "独家暗号戊：医疗费用远超家庭收入"
PHOTO_TEXT = b"secret-diagnosis-photo-bytes"
INCOME = "8765"
INCOME_FEN = "876500"  # as stored, in fen: six digits base64 is most unlikely to hold by chance
PHRASES = [STORY, CONTACT, FAMILY, NOTE, REASON]


def _walk_the_case(chat_member: Chat, chair: Chat, photo: Path) -> None:
    chat_member.send("困难申报")
    chat_member.send("是")
    chat_member.send("1")
    chat_member.send(STORY)
    chat_member.send("4")
    chat_member.send(INCOME)
    chat_member.send("2")
    chat_member.send("紧急")
    chat_member.send_media(Media(MediaKind.PHOTO, str(photo), "image/jpeg", len(PHOTO_TEXT)))
    chat_member.send("好了")
    chat_member.send(CONTACT)
    chat_member.send("确认", expect="已收到您的帮扶申请")
    chair.send("帮扶办理")
    chair.send("1")
    chair.send("记录联系")
    chair.send(NOTE)
    chair.send("确认", expect="已记录首次联系")
    chair.send("记录走访")
    chair.send("今天")
    chair.send("王主席")
    chair.send(FAMILY)
    chair.send("焦虑")
    chair.send("疾病")
    chair.send("医药费")
    chair.send(NOTE)
    chair.send("确认", expect="走访已记录")
    chair.send("帮扶决定")
    chair.send("2")
    chair.send("5000")
    chair.send("跳过")
    chair.send("困难职工帮扶资金")
    chair.send(REASON)
    chair.send("确认", expect="帮扶决定已记录")


def _raw_rows(db: SessionFactory) -> str:
    """Every column of every table as the database holds it, bypassing the sealed column type."""
    lines = []
    with db() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(sa.text(f'SELECT * FROM "{table.name}"')):
                lines.append(repr(tuple(row)))
    return "\n".join(lines)


def _pg_dump(db: SessionFactory) -> str | None:
    if shutil.which("pg_dump") is None or TEST_DATABASE_URL is None:
        return None
    with db() as session:
        schema = session.execute(sa.text("SELECT current_schema()")).scalar_one()
    url = TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
    done = subprocess.run(
        ["pg_dump", "--data-only", "--schema", schema, url], capture_output=True, check=True, timeout=120
    )
    return done.stdout.decode()


def test_a_dump_and_the_media_folder_show_nothing_in_clear(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    folder = union.media_dir / "telegram"
    folder.mkdir(parents=True)
    photo = folder / "AgADBAAD.jpg"
    photo.write_bytes(PHOTO_TEXT)
    with time_machine.travel(NOW, tick=False):
        _walk_the_case(Chat(hardship_bot, key="member"), Chat(hardship_bot, key="chair"), photo)

    dumps = [_raw_rows(db)]
    with db() as session:
        dialect = session.connection().engine.dialect.name
        database = session.connection().engine.url.database
    if dialect == "sqlite":
        assert database is not None
        for path in Path(database).parent.glob(Path(database).name + "*"):
            dumps.append(path.read_bytes().decode("utf-8", errors="replace"))
    else:
        dumped = _pg_dump(db)
        if dumped is not None:
            dumps.append(dumped)
    everything = "\n".join(dumps)
    assert "s1:" in everything, "the sealed values are there, as sealed text"
    for phrase in PHRASES:
        assert phrase not in everything, f"{phrase!r} is in the database in clear"
    assert INCOME_FEN not in everything

    media = [path for path in union.media_dir.rglob("*") if path.is_file()]
    assert media, "the photo is kept, sealed"
    for path in media:
        content = path.read_bytes()
        assert PHOTO_TEXT not in content
        for phrase in PHRASES:
            assert phrase.encode() not in content


def test_a_half_filled_form_waits_sealed_even_when_spoken(
    db: SessionFactory, hardship_bot: Bot, union: Union
) -> None:
    with time_machine.travel(NOW, tick=False):
        member = Chat(hardship_bot, key="member")
        member.send("困难申报")
        member.send("是")
        member.send("1")
        member.say(STORY, expect="几口人")  # taken as said: no read-back that would wait in clear
        member.send("4")
        member.send(INCOME)
    waiting = _raw_rows(db)
    assert "hardship_report" in waiting
    assert STORY not in waiting
    assert INCOME_FEN not in waiting
