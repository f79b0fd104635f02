"""切换语言: a language named anywhere switches at once; the picker is a list that command words leave."""

from __future__ import annotations

import pytest

from models.db import SessionFactory
from tests.factories import make_member
from tests.handlers.conftest import Chat

ENGLISH = "OK, I'll write to you in English from now on."
SIMPLIFIED = "好的，以后用简体中文和您交流。"
TRADITIONAL = "好的，以後用繁體中文和您交流。"


@pytest.fixture
def member(db: SessionFactory, chat: Chat) -> Chat:
    with db() as session:
        make_member(session)
    chat.send("1001")
    chat.send("1234", expect="绑定成功")
    return chat


def test_lang_with_a_code_switches_without_the_picker(member: Chat) -> None:
    seen = member.send("/lang en", expect=ENGLISH)
    assert "Choose a language" not in seen
    member.send("/lang zh-TW", expect=TRADITIONAL)


def test_the_picker_gives_way_to_my_profile_and_the_menu(member: Chat) -> None:
    member.send("/lang", expect="Choose a language")
    member.send("我的", expect="工号：1001")
    member.send("/lang", expect="Choose a language")
    member.send("menu", expect="请选择要办理的事项")


@pytest.mark.parametrize(
    ("typed", "answer"),
    [("中文", SIMPLIFIED), ("简体", SIMPLIFIED), ("繁體", TRADITIONAL), ("English", ENGLISH)],
)
def test_a_language_name_typed_in_english_mode_switches_directly(
    member: Chat, typed: str, answer: str
) -> None:
    member.send("/lang en", expect=ENGLISH)
    seen = member.send(typed, expect=answer)
    assert "didn't understand" not in seen
