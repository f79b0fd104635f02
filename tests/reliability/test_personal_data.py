"""A day of every feature, logged at DEBUG: no secret and no personal detail where it does not belong.

Members bind (a wrong invite code, a wrong guess, the right digits; then WeChat by invite code),
suggest (anonymously), a chair reviews and answers, sends a notice, sets out an activity and
cancels it; members read, sign up, change language and push channel, unbind and bind again; the
database is busy once and fails once in the middle. Then the delivery worker sends every push
through the stand-in Telegram and WeChat servers.

Every record of every logger is captured at DEBUG, through the cleaning the app installs. No
secret of the settings, no phone number, no binding digit and nothing typed at binding may be in
them; nor in an incident's apology; nor (with the anonymous proposer's name) in any push.

What counts as sensitive is :data:`SENSITIVE_FIELDS` (values read from the database after the
day) and :data:`SECRETS` (the settings'): a feature that keeps something sensitive (a hardship
case's details, a member's wage for dues) adds its field there, and its part of the day to
:func:`a_day`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import Session, col, select

from bot.app import App, configure_logging
from bot.channels.wechat.webhook import WeChatChannel, WeChatConfig
from bot.core_runner import ThreadCore
from bot.delivery.runner import run_worker
from bot.http_server import build_http_app
from bot.settings import Settings, load_settings
from handlers.core.i18n import Catalogues
from handlers.core.messages import Incoming
from handlers.core.module import JobContext
from models.db import SessionFactory
from models.ephemeral import MemoryStore
from models.invites import create_invite
from models.members import Member
from models.outbox import Outbox, OutboxStatus
from models.roles import Role
from models.suggestions import Suggestion
from tests.e2e.telegram_stub import TelegramStub
from tests.e2e.wechat_client import cdata, sign
from tests.e2e.wechat_stub import WeChatStub
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat, transcript
from tests.handlers.workshop import organise_basketball, sign_up
from tests.reliability.matrix_support import NOW, make_bot, seed_union
from tests.reliability.test_fuzz_wechat import StandInService

TOKEN = "7301234567:AAHk3v9QxLmN2pR5sT8uW1yZ4bC6dF0gJ7e"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "wx-app-secret-5f3c1e9a7b2d4c6e8f0a"
AES_KEY = "kR7mW2xQ9pL4vN8sT1yB6cF3hJ0dG5aZ2eU7iO9qX4w"
WECHAT_TOKEN = "wechatToken42"
DATA_KEY = "q1V8r0JmX2l3oYt9zK6pW4nB7cH5sD1fG3aE0uI2yLw="
WEBHOOK_SECRET = "hook-secret-Q2w3E4r5"
SECRETS = (TOKEN, TOKEN.partition(":")[2], APP_SECRET, AES_KEY, WECHAT_TOKEN, DATA_KEY, WEBHOOK_SECRET)
"""The settings' secrets: never in a log line, an apology or a push."""

# The proposer who hands in a suggestion anonymously, and what she types to bind.
PROPOSER_NO = "Z70315"
PROPOSER_NAME = "欧阳秀珍"
PROPOSER_PHONE = "13912347093"
CHAIR_TG, PROPOSER_TG, COLLEAGUE_TG = "5100001", "5100002", "5100003"
PROPOSER_WX = "oProposerWx_0123456789"
# A member who binds through the WeChat webhook itself.
WECHAT_NO, WECHAT_PHONE, WECHAT_OPENID = "W52817", "13855506142", "oSunGongWx_0123456789"

SENSITIVE_FIELDS: dict[str, Callable[[Session], Iterable[str]]] = {
    "a member's phone number": lambda session: [m.phone for m in session.exec(select(Member)) if m.phone],
    "the digits that bind an account (a phone's last four)": lambda session: [
        m.phone[-4:] for m in session.exec(select(Member)) if m.phone
    ],
    "the name of an anonymous proposer": lambda session: session.exec(
        select(Member.name)
        .join(Suggestion, col(Suggestion.proposer_id) == Member.id)
        .where(col(Suggestion.anonymous).is_(True))
    ).all(),
}
"""What the database holds that must stay where it is, by what it is: the values, read after the day."""


@dataclass
class Seen:
    """Everything that left the core during the day, where a leak would be read."""

    typed_at_binding: list[str] = field(default_factory=list)
    incident_replies: list[str] = field(default_factory=list)


def settings_for(data_dir: Path, telegram: TelegramStub, wechat: WeChatStub) -> Settings:
    return load_settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'unionbot.db'}",
        redis_url=None,
        telegram_token=TOKEN,
        telegram_webhook_secret=WEBHOOK_SECRET,
        telegram_api_url=telegram.url,
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_aes_key=AES_KEY,
        wechat_api_url=wechat.url,
        data_key=DATA_KEY,
        log_level="DEBUG",
        quiet_hours="",
    )


class Person(Chat):
    """A member on one channel, whose every answer is checked for an incident's apology."""

    def __init__(self, app: App, seen: Seen, key: str, channel: str = "telegram") -> None:
        super().__init__(app.bot, channel=channel, key=key)
        self.seen = seen

    def _deliver(self, incoming: Incoming, expect: Any, absent: Any) -> str:
        shown = super()._deliver(incoming, expect, absent)
        self.seen.incident_replies += [r.text for r in self.last if "出了点问题" in r.text]
        return shown

    def binds(self, text: str, expect: str) -> None:
        self.seen.typed_at_binding.append(text)
        self.send(text, expect=expect)


@contextlib.contextmanager
def failing_once(engine: sa.Engine, *, writing: str, kind: str, message: str) -> Iterator[None]:
    """The next statement writing table ``writing`` fails with the driver's own ``kind`` of error
    (OperationalError: a busy database; IntegrityError: a broken rule), as a real failure would."""
    fired: list[str] = []
    error = getattr(engine.dialect.loaded_dbapi, kind)

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        words = statement.split()
        if not fired and words[0].upper() in ("INSERT", "UPDATE") and writing in words[1:4]:
            fired.append(statement)
            raise error(message)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    assert fired, f"nothing wrote {writing}: the fault was never injected"


def seed(app: App) -> int:
    """一车间's chair and a colleague, bound on Telegram; the proposer, not bound yet. Her id."""
    with app.sessions() as session:
        chair = make_member(
            session,
            employee_no="C1",
            name="王主席",
            phone="13700004729",
            roles=[(Role.CHAIR, "厂工会/一车间")],
        )
        colleague = make_member(session, employee_no="1002", name="赵强", phone="13600008351")
        proposer = make_member(
            session,
            employee_no=PROPOSER_NO,
            name=PROPOSER_NAME,
            phone=PROPOSER_PHONE,
            unit="厂工会/一车间/乙班",
        )
        bind(session, chair, key=CHAIR_TG)
        bind(session, colleague, key=COLLEAGUE_TG)
        make_member(
            session, employee_no=WECHAT_NO, name="孙工", phone=WECHAT_PHONE, unit="厂工会/一车间/甲班"
        )
        assert proposer.id is not None
        return proposer.id


def _at(moment: datetime) -> datetime:
    return moment


def a_day(app: App, seen: Seen) -> None:
    """Every feature once, through the router, as the members of 一车间 use them."""
    chair, colleague = Person(app, seen, CHAIR_TG), Person(app, seen, COLLEAGUE_TG)
    proposer = Person(app, seen, PROPOSER_TG)
    proposer_id = seed(app)

    # Binding: a code that is no code, a busy database, a wrong guess, the right digits.
    proposer.binds("/start K7M2Q9XP", expect="绑定码无效")
    with failing_once(
        app.engine, writing="dialog_state", kind="OperationalError", message="database is locked"
    ):
        proposer.binds(PROPOSER_NO, expect="系统有点忙")
    proposer.binds(PROPOSER_NO, expect="手机号的后四位")
    proposer.binds("3861", expect="不正确")
    proposer.binds(PROPOSER_NO, expect="手机号的后四位")
    proposer.binds(PROPOSER_PHONE[-4:], expect="绑定成功")

    # An anonymous suggestion; the database fails once as it is handed in.
    proposer.send("提建议", expect="请选择建议类别")
    proposer.press("安全生产", expect="请用一句话概括")
    proposer.send("三号线冲压机噪声超标", expect="请写下")
    proposer.send("冲压机旁说话听不见，建议加装隔音罩并配发耳塞。", expect="效益")
    proposer.send("跳过")
    proposer.send("跳过")
    proposer.send("跳过", expect="是否显示您的姓名")
    proposer.press("匿名", expect="提交方式：匿名")
    with failing_once(
        app.engine, writing="suggestion", kind="IntegrityError", message="CHECK constraint failed"
    ):
        proposer.send("确认", expect="出了点问题")
    proposer.send("确认", expect="您的建议已提交")

    # The chair answers it, without knowing who asked.
    chair.send("建议办理", expect="三号线冲压机噪声超标", absent=[PROPOSER_NAME])
    chair.send("1", expect="答复提出人", absent=[PROPOSER_NAME])
    chair.press("答复提出人", expect="请写下给提出人的答复")
    chair.send("已安排设备科下周加装隔音罩，谢谢您的建议。", expect="请核对给提出人的答复")
    chair.send("确认", expect="答复已发给提出人")

    # A notice to the workshop, read by a colleague.
    chair.send("发通知", expect="请选择发布的栏目")
    chair.send("1", expect="请输入标题")
    chair.send("一车间安全例会", expect="请输入正文")
    chair.send("周五下午三点在职工之家召开安全例会，请准时参加。", expect="图片或一个文件")
    chair.send("跳过", expect="请选择发送对象")
    chair.send("1")
    chair.send("1")
    chair.send("确认", expect="通知开始发给")
    colleague.send("通知公告", expect="一车间安全例会")
    colleague.send("1", expect="周五下午三点")

    # An activity: set out, signed up for, cancelled.
    organise_basketball(chair)
    sign_up(proposer)
    chair.send("我发起的活动", expect="一车间职工篮球赛")
    chair.send("1", expect="取消活动")
    chair.press("取消活动", expect="请简单说明取消的原因")
    chair.send("场馆临时检修。", expect="确定要取消活动")
    chair.press("是", expect="已取消活动")

    # The account: language, a second channel by invite code, where pushes go, unbinding and back.
    proposer.send("切换语言", expect="Choose a language")
    proposer.send("English", expect="English")
    proposer.send("language")
    proposer.send("简体中文")
    with app.sessions() as session:
        member = session.get(Member, proposer_id)
        assert member is not None
        code = create_invite(session, member=member, now=NOW, ttl=timedelta(days=7))
    on_wechat = Person(app, seen, PROPOSER_WX, channel="wechat")
    on_wechat.seen.typed_at_binding.append(code)
    on_wechat.send(f"/start {code}", expect="绑定成功")
    proposer.send("推送渠道", expect="微信")
    proposer.send("微信")
    proposer.send("我的信息", expect=PROPOSER_NO)
    proposer.send("解除绑定", expect="确定要解除")
    proposer.send("是", expect="已解除")
    proposer.binds(PROPOSER_NO, expect="后四位")
    proposer.binds(PROPOSER_PHONE[-4:], expect="绑定成功")

    # The days after: every scheduled job runs each morning (reminders the day before a deadline,
    # escalations the day after it).
    queued = 0
    for days in range(1, 6):
        morning = NOW + timedelta(days=days)
        context = JobContext(app.sessions, app.core_config, clock=functools.partial(_at, morning))
        queued += sum(job.run(context) for job in app.registry.jobs)
    assert queued, "no job queued anything: the day does not reach the scheduled pushes"


async def binding_through_the_wechat_webhook(app: App, seen: Seen, media: Path) -> None:
    """A member binds on WeChat, the real webhook over ASGI: her 工号 and digits travel as WeChat's XML."""
    channel = WeChatChannel(
        core=ThreadCore(app.bot),
        sessions=app.sessions,
        store=app.store,
        catalogues=app.catalogues,
        config=WeChatConfig(token=WECHAT_TOKEN, app_id=APP_ID, media_dir=media),
        service=StandInService(),
    )
    transport = httpx.ASGITransport(app=build_http_app([channel.route()]))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            for number, (text, expect) in enumerate(
                [
                    (WECHAT_NO, "后四位"),
                    ("2957", "不正确"),
                    (WECHAT_NO, "后四位"),
                    (WECHAT_PHONE[-4:], "绑定成功"),
                ]
            ):
                seen.typed_at_binding.append(text)
                stamp, nonce = str(int(time.time())), f"bind{number}"
                query = {"signature": sign(WECHAT_TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
                xml = (
                    f"<xml><ToUserName>{cdata('gh_0123456789ab')}</ToUserName>"
                    f"<FromUserName>{cdata(WECHAT_OPENID)}</FromUserName><CreateTime>{stamp}</CreateTime>"
                    f"<MsgType>{cdata('text')}</MsgType><Content>{cdata(text)}</Content>"
                    f"<MsgId>{7000 + number}</MsgId></xml>"
                )
                answer = await http.post("/wechat", params=query, content=xml.encode())
                assert expect in answer.text, answer.text
    finally:
        await channel.stop()
        await channel.core.close()


async def deliver_everything(app: App) -> None:
    """The delivery worker, until no push waits or is on its way."""
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(app, stop))
    try:
        async with asyncio.timeout(60):
            while True:
                with app.sessions() as session:
                    open_rows = session.exec(
                        select(Outbox.id).where(
                            col(Outbox.status).in_(
                                (OutboxStatus.QUEUED, OutboxStatus.CLAIMED, OutboxStatus.SENDING)
                            )
                        )
                    ).all()
                if not open_rows:
                    return
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(worker, timeout=15)


def found_in(text: str, values: Iterable[str]) -> list[str]:
    """The values that occur in ``text``; a value of digits only counts as a number of its own."""
    hits = []
    for value in set(values):
        if not value:
            continue
        if value.isdigit() and len(value) < 8:
            pattern = rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])"
            if re.search(pattern, text):
                hits.append(value)
        elif value in text:
            hits.append(value)
    return sorted(hits)


@pytest.fixture(autouse=True)
def _hooks_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure_logging routes uncaught exceptions through logging; pytest's own hooks come back after."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)


async def test_a_day_of_every_feature_leaves_no_secret_or_personal_detail_in_logs_apologies_or_pushes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with TelegramStub(token=TOKEN) as telegram, WeChatStub(app_id=APP_ID, secret=APP_SECRET) as wechat:
        settings = settings_for(tmp_path / "data", telegram, wechat)
        configure_logging(settings)  # the cleaning every process installs
        caplog.set_level(logging.DEBUG)
        app = App(settings)
        app.prepare()
        seen = Seen()
        with time_machine.travel(NOW, tick=True):
            await asyncio.to_thread(a_day, app, seen)
            await binding_through_the_wechat_webhook(app, seen, tmp_path / "media")
        with time_machine.travel(NOW + timedelta(days=6), tick=True):  # the jobs' pushes are due too
            await deliver_everything(app)
        with app.sessions() as session:
            sensitive = {what: list(values(session)) for what, values in SENSITIVE_FIELDS.items()}
            delivered = session.exec(select(Outbox.status)).all()
            unsent = {
                (row.member_id, (row.error or "").split(":")[0])
                for row in session.exec(select(Outbox).where(Outbox.status != OutboxStatus.SENT))
            }
        app.engine.dispose()

    pushes = [str(params.get("text", "")) for params in telegram.sent("sendMessage")]
    pushes += [str(call.body) for path in ("/cgi-bin/message/custom/send", "/cgi-bin/message/template/send")
               for call in wechat.sent(path)]  # fmt: skip
    logged = "\n".join(
        f"{record.name} {record.levelname} {record.getMessage()}\n{record.exc_text or ''}"
        for record in caplog.records
    )
    # Everything went out, but to 孙工, whom the notice (and the monthly calls) found unbound, and
    # WeChat's 48 hours no more.
    assert not {OutboxStatus.QUEUED, OutboxStatus.CLAIMED, OutboxStatus.SENDING} & set(delivered)
    assert len({member for member, _error in unsent}) <= 1, unsent
    assert {error for _member, error in unsent} <= {"no_account"}, unsent
    assert len(pushes) >= 4, pushes  # the answer, the notice twice, the cancellation…
    assert "database is locked" in logged  # the faults were logged
    assert "CHECK constraint failed" in logged
    assert len(seen.incident_replies) == 1

    typed = {"typed at binding": seen.typed_at_binding}
    leaks: list[str] = []
    for where, text, kinds in (
        ("the log", logged, {**sensitive, **typed}),
        ("an incident's apology", "\n".join(seen.incident_replies), {**sensitive, **typed}),
        ("a push", "\n".join(pushes), {k: v for k, v in sensitive.items() if "binding" not in k}),
    ):
        for what, values in {"a secret of the settings": list(SECRETS), **kinds}.items():
            leaks += [f"{what} in {where}: {hit!r}" for hit in found_in(text, values)]
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("kind", ["OperationalError", "IntegrityError"])
def test_a_database_failure_at_binding_logs_the_statement_but_not_what_was_typed(
    db: SessionFactory, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """Regression: the router logged the failed statement with its parameters, and the binding
    form's answers (the 工号 typed) are a parameter of the dialog's upsert."""
    caplog.set_level(logging.DEBUG)
    with time_machine.travel(NOW, tick=False):
        seed_union(db)
        bot = make_bot(db, MemoryStore(), Catalogues())
        bot.handle(Incoming("telegram", "stranger", text="/start"))
        with failing_once(db.engine, writing="dialog_state", kind=kind, message="the disk is on fire"):
            replies = bot.handle(Incoming("telegram", "stranger", text="Q40817"))
    assert "出了点问题" in transcript(replies) or "系统有点忙" in transcript(replies)
    assert "INSERT INTO dialog_state" in caplog.text  # what failed is still told
    assert "Q40817" not in caplog.text
