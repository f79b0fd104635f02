"""The one error boundary: nobody is left without an answer."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from handlers.core.context import Context, CoreConfig
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues
from handlers.core.messages import Incoming, Reply
from handlers.core.module import Module
from handlers.core.router import Bot
from handlers.modules import REGISTRY, registry
from models.db import SessionFactory, make_engine
from models.ephemeral import EphemeralStore, MemoryStore
from models.errors import DomainError
from tests.factories import make_member
from tests.handlers.conftest import Chat


def _broken(ctx: Context, arg: str) -> list[Reply]:
    raise RuntimeError("a bug")


def _refused(ctx: Context, arg: str) -> list[Reply]:
    ctx.member.name = "changed"  # type: ignore[union-attr]
    ctx.session.add(ctx.member)
    raise DomainError("test.refused", "抱歉，您没有处理这个单位此项事务的权限。")


def _echo(ctx: Context, arg: str) -> list[Reply]:
    return [Reply(f"echo {arg}")]


EXTRA = (
    Feature(name="echo", label="echo", summary="", words=(), run=_echo, in_menu=False, background=True),
    Feature(name="boom", label="boom", summary="", words=("/boom",), run=_broken, in_menu=False),
    Feature(name="refuse", label="refuse", summary="", words=("/refuse",), run=_refused, in_menu=False),
)


@pytest.fixture
def bound(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues) -> Chat:
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=catalogues,
        config=CoreConfig(),
        registry=registry(Module(name="test", features=EXTRA)),
    )
    with db() as session:
        make_member(session)
    chat = Chat(bot)
    chat.send("1001")
    chat.send("1234", expect="绑定成功")
    return chat


def test_a_bug_gets_an_apology_with_an_incident_number(bound: Chat, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        seen = bound.send("/boom", expect="出了点问题（编号 ")
    incident = seen.split("编号 ")[1][:8]
    assert any(incident in record.getMessage() for record in caplog.records)


def test_a_domain_error_is_its_sentence_and_undoes_the_change(bound: Chat, db: SessionFactory) -> None:
    bound.send("/refuse", expect="没有处理这个单位此项事务的权限")
    bound.send("/me", absent=["changed"])


def test_a_database_that_cannot_be_reached_asks_to_try_later(tmp_path: Path, catalogues: Catalogues) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    bot = Bot(
        sessions=SessionFactory(engine),
        store=MemoryStore(),
        catalogues=catalogues,
        config=CoreConfig(),
        registry=REGISTRY,
    )
    replies = bot.handle(Incoming("telegram", "u1", text="你好"))
    assert [reply.text for reply in replies] == ["系统有点忙，请稍后再试。"]


def test_group_style_commands_with_a_bot_name_work(bound: Chat) -> None:
    bound.send("/me@UnionBot", expect="工号：1001")


def test_menu_buttons_work_even_after_the_menu_closed(bound: Chat) -> None:
    bound.send("菜单")
    menu = bound.last
    bound.send("取消", expect="现在没有正在办理的事项")
    bound.last = menu  # the member scrolls up and taps the old menu
    bound.press("我的信息", expect="工号：1001")


def test_a_button_on_a_push_carries_its_argument_and_leaves_the_open_form_open(bound: Chat) -> None:
    bound.send("/unbind", expect="确定要解除当前账号")
    seen = bound._deliver(
        Incoming("telegram", "u1", button="go:echo:42"), ["echo 42", "确定要解除当前账号"], ()
    )
    assert "请选择要办理的事项" not in seen
    bound.send("否", expect="绑定保持不变")  # the question was still open


def test_a_button_on_a_push_at_the_menu_does_not_repeat_the_menu(bound: Chat) -> None:
    bound.send("菜单", expect="请选择要办理的事项")
    bound._deliver(Incoming("telegram", "u1", button="go:echo:7"), "echo 7", ["请选择要办理的事项"])


def test_a_menu_button_for_a_feature_that_is_gone_is_stale(bound: Chat) -> None:
    bound._deliver(Incoming("telegram", "u1", button="go:nothing:1"), "这个按钮已经失效了", ())


@pytest.mark.parametrize("cancel", ["取消。", "算了！", "/cancel@UnionBot", "Cancel"])
def test_cancel_as_members_type_it_leaves_a_form(bound: Chat, cancel: str) -> None:
    bound.send("/lang", expect="English")
    bound.send(cancel, expect="已取消", absent=["请回复选项前的数字"])
    bound.send("3", absent=["English from now on"])  # the language form is closed
