"""活动签到: the organiser shows the day's code (and its QR code), members check in with it or its
link, and the organiser marks by hand who came without a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlmodel import col, select

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.activities import Activity, ActivitySignup
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from tests.handlers.activities.conftest import organise
from tests.handlers.conftest import Chat

ON_THE_DAY = datetime(2026, 11, 28, 5, 30, tzinfo=UTC)  # 13:30 in Shanghai, half an hour before the start


def _code(text: str) -> str:
    found = re.search(r"的签到码：(\d{6})", text)
    assert found is not None, text
    return found[1]


def _sign_up(bot: Bot, *keys: str) -> None:
    for key in keys:
        chat = Chat(bot, key=key)
        chat.send("活动报名")
        chat.send("1")
        chat.send("报名", expect="报名成功")


def test_members_check_in_with_the_days_code_and_the_cadre_marks_the_rest(
    db: SessionFactory, bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre, capacity="不限")
    cadre.send("确认")
    _sign_up(bot, "member", "second", "cadre")
    cadre.send("我发起的活动")
    cadre.send("1", absent=["到场："])
    shown = cadre.press(
        "签到码",
        expect=[
            "“职工篮球赛”2026-11-28的签到码：",
            "签到码每天更换",
            "（活动当天才能签到：2026-11-28 14:00）",
        ],
    )
    code = _code(shown)
    member, second, other = Chat(bot, key="member"), Chat(bot, key="second"), Chat(bot, key="other")
    member.send("签到", expect="请输入活动组织人公布的 6 位签到码")
    member.send(code, expect="这是别的日子的签到码。签到只能在活动当天")  # the day before
    member.send("取消")

    clock.move_to(ON_THE_DAY)
    cadre.send("我发起的活动")
    cadre.send("1")
    assert _code(cadre.press("签到码", absent=["活动当天才能签到"])) == code  # the code of the day
    member.send("签到")
    member.send("12345", expect="签到码是 6 位数字")
    member.send(code, expect=["签到成功！欢迎参加“职工篮球赛”。", "请选择要办理的事项"])
    member.send(f"/checkin {code}", expect="您已经签到过了，不用再签")
    other.send(f"/checkin {code}", expect="您没有报名这个活动，不能签到")  # 二车间: not signed up
    other.send("取消")
    other.send("/checkin 123456", expect="您今天没有报名的活动需要签到")
    second.send("/checkin 000000", expect=["签到码不对", "请输入活动组织人公布的 6 位签到码"])
    second.send("取消")
    second.send(f"/start ci_{code}", expect="签到成功！")  # the QR code's Telegram link
    member.send("我的报名")
    member.send("1", expect="您已报名这个活动")

    cadre.send("我发起的活动")
    cadre.send("1", expect=["到场：2/3 人（✓ 为已到）", "1. 李娜（1001，厂工会/一车间/甲班） ✓"])
    cadre.press("登记到场", expect="请回复到场会员在上面名单中的序号")
    cadre.send("1 7", expect="没有序号 7：名单上是 1 到 3。请重新输入。")
    cadre.send("第三个", expect="请回复名单前面的序号")
    cadre.send("１、3", expect=["已登记 1 人到场，共 3/3 人到场。", "到场：3/3 人"])
    with db() as session:
        signups = session.exec(select(ActivitySignup).order_by(col(ActivitySignup.queue_no))).all()
        assert all(signup.attended_at is not None for signup in signups)
        assert [signup.attendance_marked_by is not None for signup in signups] == [False, False, True]
    clock.move_to(ON_THE_DAY + timedelta(days=2))  # 我的报名 keeps it a week, to show it was counted
    member.send("我的报名", expect=["1. 职工篮球赛", "（已签到）"])
    member.send("1", expect="您参加了这个活动，已签到。")


def test_the_code_comes_with_a_qr_code_that_opens_the_bot_on_telegram(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, union: None, tmp_path: Path
) -> None:
    config = CoreConfig(export_dir=tmp_path, telegram_bot_username="union_helper_bot")
    bot = Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    cadre.send("我发起的活动")
    cadre.send("1")
    shown = cadre.press("签到码", expect="Telegram 用户扫描二维码即可签到")
    image = next(reply.image for reply in cadre.last if reply.image is not None)
    png = Path(image.path).read_bytes()
    assert png.startswith(b"\x89PNG")
    assert image.name == "签到二维码-2026-11-28.png"
    assert len(_code(shown)) == 6


def test_a_deep_link_opens_an_activity_directly(db: SessionFactory, bot: Bot, union: None) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    with db() as session:
        number = session.exec(select(Activity.id)).one()
    member = Chat(bot, key="member")
    member.send(f"/start act_{number}", expect=["【活动】职工篮球赛", "名额：剩余 2 个（共 2 个）"])
    assert member.buttons() == ["报名", "返回列表"]
    Chat(bot, key="other").send(f"/start act_{number}", expect="找不到这个活动")  # not open to 二车间
    member.send("/activities 99", expect="找不到这个活动")


def test_attendance_can_only_be_marked_from_the_activitys_day(
    bot: Bot, union: None, clock: time_machine.Traveller
) -> None:
    cadre = Chat(bot, key="cadre")
    organise(cadre)
    cadre.send("确认")
    _sign_up(bot, "member")
    cadre.send("我发起的活动")
    cadre.send("1")
    assert "登记到场" not in cadre.buttons()
    clock.move_to(ON_THE_DAY - timedelta(hours=5))
    cadre.send("我发起的活动")
    cadre.send("1")
    assert "登记到场" in cadre.buttons()
    clock.move_to(ON_THE_DAY + timedelta(days=1))
    member = Chat(bot, key="member")
    member.send("我的报名", expect=["1. 职工篮球赛", "（未签到）"])
    member.send("1", expect="这个活动已经举行；没有您的签到记录。")
    assert member.buttons() == ["返回列表"]
    clock.move_to(ON_THE_DAY + timedelta(days=8))
    member.send("我的报名", expect="您现在没有报名的活动")
