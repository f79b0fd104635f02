"""Words that mean "done" finish the photos of a suggestion, and the prompt says so.

Issue #14, item 7: after two photos, 好了, 没有了 and 完成 each got 请发送一张照片。; only 跳过 moved on.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine
from sqlmodel import select

from handlers.core.messages import Media, MediaKind
from handlers.core.router import Bot
from models.db import SessionFactory
from models.suggestions import SuggestionPhoto
from tests.handlers.conftest import Chat
from tests.handlers.workshop import NOW, seed_workshop

PHOTO = Media(MediaKind.PHOTO, "data/media/telegram/spot.jpg", "image/jpeg", 120_000)
NAME_QUESTION = "评审时是否显示您的姓名"


def _to_the_photos(member: Chat) -> None:
    member.send("提建议")
    member.send("3", expect="请用一句话概括您的建议")
    member.send("叉车通道加装凸面镜")
    member.send("在拐角处装凸面镜，避免叉车撞人。", expect="预期能带来什么效益")
    member.send("跳过", expect="估计每年能创效或节约多少元")
    member.send("跳过", expect=["可以发一张现场照片", "（发完请回复“好了”；不发照片请回复“跳过”）"])


@pytest.fixture
def workshop(db: SessionFactory) -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        seed_workshop(db)
        yield


@pytest.fixture
def at_the_photos(bot: Bot, workshop: None) -> Chat:
    member = Chat(bot, key="member")
    _to_the_photos(member)
    return member


def _photos(db: SessionFactory) -> int:
    with db() as session:
        return len(session.exec(select(SuggestionPhoto)).all())


@pytest.mark.parametrize("done", ["好了", "没有了", "完成", "好了。", "就这些", "done"])
def test_a_word_for_done_after_two_photos_moves_on(
    db: SessionFactory, at_the_photos: Chat, done: str
) -> None:
    member = at_the_photos
    member.send_media(PHOTO, expect=["收到照片。还可以再发一张", "发完请回复“好了”"])
    member.send_media(PHOTO, expect=["收到照片。还可以再发最后一张", "发完请回复“好了”"])
    member.send(done, expect=NAME_QUESTION, absent=["请发送一张照片"])
    member.send("实名", expect="照片：2 张")
    member.send("确认", expect="您的建议已提交")
    assert _photos(db) == 2


def test_done_before_any_photo_skips_them(db: SessionFactory, at_the_photos: Chat) -> None:
    at_the_photos.send("好了", expect=NAME_QUESTION)
    at_the_photos.send("匿名", expect="照片：0 张")
    at_the_photos.send("确认", expect="您的建议已提交")
    assert _photos(db) == 0


def test_other_text_at_a_photo_step_says_how_to_finish(at_the_photos: Chat) -> None:
    at_the_photos.send_media(PHOTO)
    at_the_photos.send("照片在上面", expect=["请发送一张照片；发完了请回复“好了”。", "还可以再发一张"])


def test_done_on_wechat_too(bot: Bot, workshop: None) -> None:
    wechat = Chat(bot, channel="wechat", key="wx-member")
    _to_the_photos(wechat)
    wechat.send_media(PHOTO, expect="收到照片")
    wechat.send("没有了", expect=[NAME_QUESTION, "1. 实名", "2. 匿名"])
    wechat.send("1", expect="照片：1 张")
