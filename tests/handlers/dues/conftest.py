"""The dues conversations: the small union of the model tests, its clock on the reminder day."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from tests.handlers.conftest import Chat
from tests.models.dues.union import NOW, Union, build_union


@pytest.fixture(autouse=True)
def reminder_day() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, exports: Path) -> Bot:
    return Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(export_dir=exports),
        registry=REGISTRY,
    )


@pytest.fixture
def union(db: SessionFactory) -> Union:
    with db() as session:
        return build_union(session)


def bound(bot: Bot, employee_no: str) -> Chat:
    """A chat of the member with this 工号, bound (every member of the union has the phone …1234)."""
    chat = Chat(bot, key=f"tg-{employee_no}")
    chat.send(employee_no)
    chat.send("1234", expect="绑定成功")
    return chat
