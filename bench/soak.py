"""Soak: two bot processes on PostgreSQL + Redis under steady chat, a large notice and a job, for minutes.

What it runs (``make soak``: 30 minutes; tests/reliability/test_soak.py: 3):

- two ``python -m bot run`` processes (channels, delivery worker and scheduler each),
  sharing a throwaway PostgreSQL schema and Redis, against the stand-in Telegram
  and WeChat servers on 127.0.0.1;
- members chatting at ``--rate`` messages a second in all, half Telegram webhook
  updates and half WeChat XML posts, sent to the two processes' real HTTP
  endpoints in turn, each member cycling through every feature's words (profile,
  menu, help, notices, openness posts, activities and sign-ups, suggestions: the
  form started and cancelled, its list; the chairs: sent notices, review, figures);
- at the start a notice to ``--recipients`` members and a scheduled job (a push to
  every member, through the scheduler's catch-up run) going out at once at the
  channels' real rates.

What it measures: reply latency (a Telegram reply: from the POST to the stand-in
receiving the bot's message; WeChat: the passive reply in the HTTP answer, or the
customer-service message when the answer came empty), errors (HTTP errors,
replies that never came, "出了点问题" incident replies, ERROR lines and tracebacks
in the bots' logs), resident memory of each bot (with its core process) every
10 s, and the outbox: pushes sent a second against the configured rate, and the
age of the oldest push that is due and waiting.

    PYTHONPATH=. .venv/bin/python bench/soak.py --minutes 30 \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/test --redis-url redis://127.0.0.1:6379/15

Exit code 0 when every check holds (see ``--p99-max`` and ``--rss-growth-max``), 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import re
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: the repository's packages
    sys.path.insert(0, str(REPO))

from bot.app import App  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from models.outbox import Outbox, OutboxStatus  # noqa: E402
from tests.conftest import drop_postgres_schema, postgres_engine  # noqa: E402
from tests.e2e.telegram_stub import Call  # noqa: E402
from tests.e2e.wechat_client import WeChatClient  # noqa: E402
from tests.e2e.wechat_stub import Call as WeChatCall  # noqa: E402
from tests.e2e.wechat_stub import WeChatStub  # noqa: E402
from tests.reliability import roll_call  # noqa: E402
from tests.reliability.harness import (  # noqa: E402
    BotProcess,
    HoldingStub,
    bot_code,
    bot_env,
    seed_union,
)

log = logging.getLogger("soak")

APP_ID = "wx0123456789abcdef"
APP_SECRET = "soak-secret"
WECHAT_TOKEN = "soak-token"
WEBHOOK_SECRET = "soak-webhook-secret"
NOTICE_TITLE = "本周六停水通知"
# What a member sends, in turn: every feature's words, a form started and left.
MEMBER_SCRIPT = (
    "/me",
    "菜单",
    "通知公告",
    "厂务公开",
    "会费使用公开",
    "活动",
    "我的报名",
    "提建议",
    "取消",
    "我的建议",
    "推送渠道",
    "取消",
    "帮助",
)
CHAIR_SCRIPT = ("我发的通知", "返回列表", "建议办理", "取消", "建议统计", "季度评比", "取消", "菜单")
INCIDENT = "出了点问题"
REPLY_TIMEOUT = 30.0
SAMPLE_SECONDS = 10.0
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ")
LOG_PROBLEM = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")
# Chatting members: a unit of their own, so the notice's pushes never pass for a reply.
CHATTERS = 1000
CHAT_FIRST = 7_000_000


@dataclass
class Figures:
    """What the soak measured; written as JSON, summarised on the terminal."""

    minutes: float
    rate: float
    recipients: int
    push_rate: float
    warmup: float = 0.0  # seconds at the start the checks leave out (the figures keep them)
    machine: dict[str, Any] = field(default_factory=dict)
    messages: int = 0
    skipped: int = 0  # not sent: every chatting member of that channel still waited for a reply
    replies: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"telegram": [], "wechat": []})
    in_order: list[tuple[float, float]] = field(
        default_factory=list
    )  # (s into the run, latency) as replies came
    error_at: list[float] = field(default_factory=list)  # s into the run of each error
    started: float = 0.0  # perf_counter when the load began
    started_wall: float = 0.0  # time.time() then

    def error(self, text: str, at: float | None = None) -> None:
        self.errors.append(text)
        self.error_at.append(round((time.perf_counter() - self.started) if at is None else at, 1))

    errors: list[str] = field(default_factory=list)
    rss: list[tuple[float, list[int]]] = field(default_factory=list)  # (seconds, KiB per bot)
    outbox: list[tuple[float, int, int, float]] = field(default_factory=list)  # (s, sent, open, oldest s)
    notice_done_after: float | None = None
    job_done_after: float | None = None
    exit_codes: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        every = sorted(self.latencies["telegram"] + self.latencies["wechat"])
        growth = rss_growth(self.rss)
        sent = [row[1] for row in self.outbox]
        busy = [row for row in self.outbox if row[2] > 0]
        push_per_second = 0.0
        if len(busy) >= 2 and busy[-1][0] > busy[0][0]:
            push_per_second = (busy[-1][1] - busy[0][1]) / (busy[-1][0] - busy[0][0])
        return {
            "minutes": self.minutes,
            "messages": self.messages,
            "messages_skipped": self.skipped,
            "replies": self.replies,
            "p50_s": percentile(every, 50),
            "p99_s": percentile(every, 99),
            "max_s": every[-1] if every else None,
            "p99_telegram_s": percentile(sorted(self.latencies["telegram"]), 99),
            "p99_wechat_s": percentile(sorted(self.latencies["wechat"]), 99),
            "p50_p99_by_tenth_s": windows(self.in_order),
            "warmup_s": self.warmup,
            "p99_after_warmup_s": percentile(
                sorted(lat for at, lat in self.in_order if at >= self.warmup), 99
            ),
            "errors_after_warmup": sum(1 for at in self.error_at if at >= self.warmup),
            "errors": len(self.errors),
            "error_kinds": error_kinds(self.errors),
            "rss_kib_first": self.rss[0][1] if self.rss else None,
            "rss_kib_last": self.rss[-1][1] if self.rss else None,
            "rss_growth_after_warmup": growth,
            "pushes_sent": sent[-1] if sent else 0,
            "pushes_per_second_while_backlogged": round(push_per_second, 1),
            "oldest_waiting_push_max_s": max((row[3] for row in self.outbox), default=0.0),
            "notice_done_after_s": self.notice_done_after,
            "job_done_after_s": self.job_done_after,
            "exit_codes": self.exit_codes,
        }


def log_problems(text: str) -> list[tuple[float | None, str]]:
    """ERROR lines, and each traceback by its last line (the exception), with their time (time.time())."""
    problems: list[tuple[float | None, str]] = []
    lines = text.splitlines()
    last_time: float | None = None
    for index, line in enumerate(lines):
        stamp = LOG_TIME.match(line)
        if stamp:
            last_time = (
                time.mktime(time.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S")) + int(stamp.group(2)) / 1000
            )
        if line.startswith("Traceback"):
            last = next((later for later in lines[index + 1 :] if later and not later[0].isspace()), "")
            problems.append((last_time, f"traceback: {last[:200]}"))
        elif LOG_PROBLEM.search(line):
            problems.append((last_time, line[:200]))
    return problems


def error_kinds(errors: list[str]) -> dict[str, int]:
    """The errors counted by what they say, numbers left out."""
    kinds: dict[str, int] = {}
    for error in errors:
        kind = re.sub(r"\d+", "N", error)[:120]
        kinds[kind] = kinds.get(kind, 0) + 1
    return dict(sorted(kinds.items(), key=lambda item: -item[1]))


def windows(in_order: list[tuple[float, float]], parts: int = 10) -> list[tuple[float | None, float | None]]:
    """(p50, p99) of each tenth of the run's replies, in order: whether it got slower as it went."""
    latencies = [latency for _, latency in in_order]
    size = len(latencies) // parts
    if size == 0:
        return []
    return [
        (
            percentile(sorted(latencies[i * size : (i + 1) * size]), 50),
            percentile(sorted(latencies[i * size : (i + 1) * size]), 99),
        )
        for i in range(parts)
    ]


def percentile(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 4)


def rss_growth(samples: list[tuple[float, list[int]]]) -> float | None:
    """How much the bots' memory grew from the second quarter of the run to the last (warm-up left out)."""
    if len(samples) < 8:
        return None
    quarter = len(samples) // 4
    early = samples[quarter : 2 * quarter]
    late = samples[-quarter:]

    def mean(rows: list[tuple[float, list[int]]]) -> float:
        return sum(sum(kib) for _, kib in rows) / len(rows)

    return round(mean(late) / mean(early) - 1, 4)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "load_1_5_15": [round(value, 2) for value in load],
        "python": sys.version.split()[0],
    }


class WatchedWeChat(WeChatStub):
    """The WeChat stand-in, telling the driver of each customer-service message."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.on_sent: Callable[[WeChatCall], None] | None = None

    def _custom_send(self, call: WeChatCall) -> dict[str, Any]:
        answer = super()._custom_send(call)
        if self.on_sent is not None:
            self.on_sent(call)
        return answer


class Replies:
    """Who waits for a reply since when; the channel's stand-in resolves them as messages arrive."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures
        self.waiting: dict[str, tuple[float, str]] = {}  # chat → (posted at, channel)
        self.done: dict[str, asyncio.Event] = {}

    def expect(self, chat: str, channel: str) -> asyncio.Event:
        self.waiting[chat] = (time.perf_counter(), channel)
        event = self.done[chat] = asyncio.Event()
        return event

    def arrived(self, chat: str, text: str) -> None:
        if NOTICE_TITLE in text or "点名" in text:
            return  # a push, not a reply
        started = self.waiting.pop(chat, None)
        if started is None:
            return
        at, channel = started
        latency = time.perf_counter() - at
        self.figures.latencies[channel].append(latency)
        self.figures.in_order.append((round(time.perf_counter() - self.figures.started, 1), latency))
        self.figures.replies += 1
        if INCIDENT in text:
            self.figures.error(f"{channel} {chat}: incident reply {text[:80]!r}")
        self.done[chat].set()

    def answered_inline(self, chat: str, text: str) -> None:
        self.arrived(chat, text)

    def give_up(self, chat: str, word: str) -> None:
        if self.waiting.pop(chat, None) is not None:
            self.figures.error(f"{chat}: no reply to {word!r} within {REPLY_TIMEOUT:.0f} s")


@dataclass
class Chatter:
    channel: str
    chat: str  # Telegram chat id or WeChat openid
    script: tuple[str, ...]
    turn: int = 0

    def next_word(self) -> str:
        word = self.script[self.turn % len(self.script)]
        self.turn += 1
        return word


def seed_chatters(app: App) -> list[Chatter]:
    """Members of 二车间 chatting on Telegram and on WeChat, and the chair of the union (Telegram)."""
    from models.accounts import ChatAccount
    from models.base import utcnow
    from models.members import Member
    from models.units import UnitTree

    chatters: list[Chatter] = []
    with app.sessions() as session:
        unit = UnitTree(session).ensure("厂工会/二车间")
        rows = [Member(employee_no=f"K{n}", name=f"员工{n}", unit_id=unit.id) for n in range(CHATTERS)]  # type: ignore[arg-type]
        session.add_all(rows)
        session.flush()
        for n, member in enumerate(rows):
            if n % 2 == 0:
                chat = str(CHAT_FIRST + n)
                session.add(ChatAccount(channel="telegram", external_id=chat, member_id=member.id))
                chatters.append(Chatter("telegram", chat, MEMBER_SCRIPT, turn=n))
            else:
                openid = f"openid-chat-{n}"
                session.add(
                    ChatAccount(
                        channel="wechat", external_id=openid, member_id=member.id, last_seen_at=utcnow()
                    )
                )
                chatters.append(Chatter("wechat", openid, MEMBER_SCRIPT, turn=n))
    from tests.reliability.harness import CHAIR_CHAT

    chatters.append(Chatter("telegram", str(CHAIR_CHAT), CHAIR_SCRIPT))
    return chatters


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.figures = Figures(
            minutes=args.minutes,
            rate=args.rate,
            recipients=args.recipients,
            push_rate=args.push_rate,
            warmup=args.warmup,
        )
        self.replies = Replies(self.figures)
        # Telegram's update ids are de-duplicated in Redis for a while: a run never reuses an earlier one's.
        self.update_ids = itertools.count(int(time.time()) * 1000)
        self.bots: list[BotProcess] = []
        self.ports: list[int] = []
        self.load_at_start = [round(value, 2) for value in os.getloadavg()]

    async def run(self) -> Figures:
        schema = f"unionbot_soak_{uuid.uuid4().hex[:10]}"
        postgres_engine(self.args.postgres_url, schema).dispose()
        database_url = f"{self.args.postgres_url}?options=-csearch_path%3D{schema}"
        store = redis.Redis.from_url(self.args.redis_url)
        store.delete(*(store.keys("unionbot:rate:*") or ["-"]))
        telegram = HoldingStub()
        wechat = WatchedWeChat(app_id=APP_ID, secret=APP_SECRET)
        await telegram.start()
        await wechat.start()
        telegram.on_sent = self._telegram_sent
        wechat.on_sent = self._wechat_sent
        app: App | None = None
        try:
            settings = {
                "telegram_token": telegram.token,
                "telegram_api_url": telegram.url,
                "telegram_webhook_secret": WEBHOOK_SECRET,
                "wechat_token": WECHAT_TOKEN,
                "wechat_app_id": APP_ID,
                "wechat_app_secret": APP_SECRET,
                "wechat_api_url": wechat.url,
                "database_url": database_url,
                "redis_url": self.args.redis_url,
                "quiet_hours": "",
                "telegram_push_per_second": self.args.push_rate,
                "http_host": "127.0.0.1",
            }
            app = App(load_settings(data_dir=self.workdir / "driver", **settings))
            # On threads: the stand-ins on this loop keep answering the bots meanwhile.
            await asyncio.to_thread(app.prepare)
            union = await asyncio.to_thread(seed_union, app.sessions, self.args.recipients, wechat_every=5)
            chatters = await asyncio.to_thread(seed_chatters, app)
            await self._start_bots(settings)
            await self._until_answering(chatters)
            started = self.figures.started = time.perf_counter()
            self.figures.started_wall = time.time()
            notice_id = await self._send_notice(database_url, union.chair_id)
            sampler = asyncio.create_task(self._sample(app, notice_id, started))
            await self._chat(chatters, started)
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
            await self._sample_once(app, notice_id, started)
            for bot in self.bots:
                self.figures.exit_codes.append(await bot.stop())
            for index, bot in enumerate(self.bots):
                for wall, line in log_problems(bot.log_text()):
                    at = wall - self.figures.started_wall if wall is not None else None
                    self.figures.error(f"bot {index + 1} log: {line}", at)
        finally:
            for bot in self.bots:
                if bot.process is not None and bot.process.returncode is None:
                    await bot.kill()
            telegram.release()
            await telegram.stop()
            await wechat.stop()
            if app is not None:
                app.engine.dispose()
            store.close()
            drop_postgres_schema(self.args.postgres_url, schema)
        self.figures.machine = {**machine(), "load_at_start": self.load_at_start}
        return self.figures

    async def _until_answering(self, chatters: list[Chatter]) -> None:
        """Each bot answers on each channel before the clock starts: /healthz comes before its
        core process and its Telegram channel are ready, and a run should not measure start-up."""
        telegram = next(c for c in chatters if c.channel == "telegram")
        wechat = next(c for c in chatters if c.channel == "wechat")
        async with httpx.AsyncClient(timeout=REPLY_TIMEOUT) as http:
            for port in self.ports:
                client = WeChatClient(
                    f"http://127.0.0.1:{port}/wechat", token=WECHAT_TOKEN, app_id=APP_ID, aes_key=None
                )
                try:
                    for chatter in (telegram, wechat):
                        done = self.replies.expect(chatter.chat, chatter.channel)
                        if chatter.channel == "telegram":
                            await http.post(
                                f"http://127.0.0.1:{port}/telegram",
                                json=self._update(int(chatter.chat), "/me"),
                                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                            )
                        else:
                            reply = await client.send_text(chatter.chat, "/me")
                            if reply.message is not None:
                                self.replies.answered_inline(chatter.chat, reply.content or "")
                        await asyncio.wait_for(done.wait(), 180)
                finally:
                    await client.aclose()
        # What the probes measured is start-up, not the run.
        self.figures.replies = 0
        self.figures.in_order.clear()
        for latencies in self.figures.latencies.values():
            latencies.clear()

    async def _send_notice(self, database_url: str, chair_id: int) -> int:
        """The chair's notice, written by a process of its own: in this one, its 20,000 rows would hold
        the interpreter from the stand-ins, and the bots' requests to them would time out."""
        code = (
            "import sys\n"
            "from bot.app import App\n"
            "from bot.settings import load_settings\n"
            "from tests.reliability.harness import Union, send_notice\n"
            f"settings = load_settings(database_url={database_url!r}, data_dir={str(self.workdir)!r})\n"
            "app = App(settings)\n"
            f"print(send_notice(app.sessions, Union({chair_id}, ()), {NOTICE_TITLE!r}))\n"
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, cwd=REPO, env=bot_env({}), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError("the notice could not be sent")
        return int(out.decode().split()[-1])

    async def _start_bots(self, settings: dict[str, Any]) -> None:
        for index in range(2):
            port = free_port()
            own = {
                **settings,
                "data_dir": self.workdir / f"bot{index + 1}",
                "http_port": port,
                "telegram_webhook_url": f"http://127.0.0.1:{port}/telegram",
            }
            code = bot_code(["run"], extra_module=roll_call.__name__, startup_delay=self.args.job_after)
            bot = BotProcess(code, bot_env(own), self.workdir / f"bot{index + 1}.log")
            await bot.start()
            self.bots.append(bot)
            self.ports.append(port)
        async with httpx.AsyncClient() as client:
            for port, bot in zip(self.ports, self.bots, strict=True):
                deadline = time.perf_counter() + 120
                while True:
                    assert bot.process is not None
                    if bot.process.returncode is not None:
                        raise RuntimeError(f"a bot did not start:\n{bot.log_text()[-3000:]}")
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"a bot did not answer on {port}:\n{bot.log_text()[-3000:]}")
                    await asyncio.sleep(0.2)

    def _telegram_sent(self, call: Call) -> None:
        if call.method in ("sendMessage", "editMessageText"):
            self.replies.arrived(str(call.params.get("chat_id")), str(call.params.get("text", "")))

    def _wechat_sent(self, call: WeChatCall) -> None:
        body = call.body if isinstance(call.body, dict) else {}
        text = body.get("text", {}).get("content", "") if isinstance(body.get("text"), dict) else ""
        self.replies.arrived(str(body.get("touser")), str(text))

    async def _chat(self, chatters: list[Chatter], started: float) -> None:
        """Send ``rate`` messages a second, Telegram and WeChat in turn, until the time is up."""
        interval = 1 / self.args.rate
        end = started + self.args.minutes * 60
        idle = [c for c in chatters]
        tasks: set[asyncio.Task[None]] = set()
        clients = [
            WeChatClient(f"http://127.0.0.1:{port}/wechat", token=WECHAT_TOKEN, app_id=APP_ID, aes_key=None)
            for port in self.ports
        ]
        # WeChat holds each POST open up to its 5 s while the bot thinks: at 25 a second that is more
        # than httpx's 100 pooled connections, and the driver must not be what makes members wait.
        unlimited = httpx.Limits(max_connections=None, max_keepalive_connections=200)
        for client in clients:
            await client.aclose()
            client._http = httpx.AsyncClient(timeout=REPLY_TIMEOUT, limits=unlimited)
        http = httpx.AsyncClient(timeout=REPLY_TIMEOUT, limits=unlimited)
        busy: set[str] = set()
        try:
            for n in itertools.count():
                at = started + n * interval
                now = time.perf_counter()
                if at > end:
                    break
                if at > now:
                    await asyncio.sleep(at - now)
                want = "telegram" if n % 2 == 0 else "wechat"
                chatter = next((c for c in idle if c.channel == want and c.chat not in busy), None)
                if chatter is None:
                    self.figures.skipped += 1
                    continue
                idle.remove(chatter)
                idle.append(chatter)  # to the back of the queue
                busy.add(chatter.chat)
                port_index = n // 2 % len(self.ports)
                task = asyncio.create_task(self._one(chatter, port_index, http, clients[port_index], busy))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await http.aclose()
            for client in clients:
                await client.aclose()

    async def _one(
        self, chatter: Chatter, port_index: int, http: httpx.AsyncClient, wechat: WeChatClient, busy: set[str]
    ) -> None:
        word = chatter.next_word()
        self.figures.messages += 1
        done = self.replies.expect(chatter.chat, chatter.channel)
        try:
            if chatter.channel == "telegram":
                response = await http.post(
                    f"http://127.0.0.1:{self.ports[port_index]}/telegram",
                    json=self._update(int(chatter.chat), word),
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                )
                if response.status_code != 200:
                    self.figures.error(f"telegram webhook answered {response.status_code}")
            else:
                reply = await wechat.send_text(chatter.chat, word)
                if reply.status != 200:
                    self.figures.error(f"wechat webhook answered {reply.status}")
                elif reply.message is not None:  # a passive reply (text, or a picture or news)
                    self.replies.answered_inline(chatter.chat, reply.content or str(reply.msg_type))
            try:
                await asyncio.wait_for(done.wait(), REPLY_TIMEOUT)
            except TimeoutError:
                self.replies.give_up(chatter.chat, word)
        except httpx.HTTPError as error:
            self.figures.error(f"{chatter.channel} webhook: {type(error).__name__}: {error}")
            self.replies.waiting.pop(chatter.chat, None)
        finally:
            busy.discard(chatter.chat)

    def _update(self, chat: int, text: str) -> dict[str, Any]:
        update_id = next(self.update_ids)
        user = {"id": chat, "is_bot": False, "first_name": "员工", "language_code": "zh-hans"}
        return {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "员工"},
                "from": user,
                "text": text,
                **(
                    {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                    if text.startswith("/")
                    else {}
                ),
            },
        }

    async def _sample(self, app: App, notice_id: int, started: float) -> None:
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            await self._sample_once(app, notice_id, started)

    async def _sample_once(self, app: App, notice_id: int, started: float) -> None:
        elapsed = round(time.perf_counter() - started, 1)
        self.figures.rss.append((elapsed, [bot.rss_kib() for bot in self.bots]))
        sent, waiting, oldest, notice_open, job_open = await asyncio.to_thread(_outbox, app, notice_id)
        self.figures.outbox.append((elapsed, sent, waiting, oldest))
        if self.figures.notice_done_after is None and notice_open == 0:
            self.figures.notice_done_after = elapsed
        if (
            self.figures.job_done_after is None
            and job_open == 0
            and sent > 0
            and elapsed > self.args.job_after
        ):
            self.figures.job_done_after = elapsed
        log.info(
            "%6.0f s: rss %s KiB, pushes sent %d, waiting %d (oldest %.0f s), %d replies, %d errors",
            elapsed,
            self.figures.rss[-1][1],
            sent,
            waiting,
            oldest,
            self.figures.replies,
            len(self.figures.errors),
        )


def _outbox(app: App, notice_id: int) -> tuple[int, int, float, int, int]:
    from models.base import utcnow

    table = Outbox.__table__  # type: ignore[attr-defined]
    open_statuses = [OutboxStatus.QUEUED.value, OutboxStatus.CLAIMED.value, OutboxStatus.SENDING.value]
    now = utcnow()
    with app.engine.connect() as connection:
        sent = connection.execute(
            sa.select(sa.func.count()).where(table.c.status == OutboxStatus.SENT.value)
        ).scalar_one()
        waiting = connection.execute(
            sa.select(sa.func.count()).where(table.c.status.in_(open_statuses))
        ).scalar_one()
        oldest = connection.execute(
            sa.select(sa.func.min(table.c.next_attempt_at)).where(
                table.c.status == OutboxStatus.QUEUED.value, table.c.next_attempt_at <= now
            )
        ).scalar_one()
        notice_open = connection.execute(
            sa.select(sa.func.count()).where(
                table.c.topic == "notice", table.c.subject_id == notice_id, table.c.status.in_(open_statuses)
            )
        ).scalar_one()
        job_rows = connection.execute(
            sa.select(sa.func.count()).where(table.c.topic == roll_call.TOPIC)
        ).scalar_one()
        job_open = connection.execute(
            sa.select(sa.func.count()).where(
                table.c.topic == roll_call.TOPIC, table.c.status.in_(open_statuses)
            )
        ).scalar_one()
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    return int(sent), int(waiting), round(age, 1), int(notice_open), int(job_open) if job_rows else -1


def checks(summary: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """What failed, in words; empty when the soak passed."""
    failed = []
    if summary["errors_after_warmup"]:
        failed.append(
            f"{summary['errors_after_warmup']} errors after the first {summary['warmup_s']} s (goal 0),"
            f" {summary['errors']} in all: {list(summary['error_kinds'].items())[:5]}"
        )
    planned = summary["messages"] + summary["messages_skipped"]
    if summary["messages_skipped"] > planned * 0.05:
        failed.append(
            f"{summary['messages_skipped']} of {planned} messages not sent: replies too slow to go on"
        )
    p99 = summary["p99_after_warmup_s"]
    if p99 is None or p99 > args.p99_max:
        failed.append(
            f"p99 reply latency after the first {summary['warmup_s']} s: {p99} s > {args.p99_max} s"
        )
    growth = summary["rss_growth_after_warmup"]
    if growth is not None and growth > args.rss_growth_max:
        failed.append(f"memory grew {growth:.1%} after warm-up > {args.rss_growth_max:.0%}")
    if summary["replies"] < summary["messages"] * 0.99:
        failed.append(f"only {summary['replies']} replies to {summary['messages']} messages")
    if any(code != 0 for code in summary["exit_codes"]):
        failed.append(f"a bot did not stop cleanly: exit codes {summary['exit_codes']}")
    if summary["pushes_sent"] == 0:
        failed.append("no push went out")
    elif summary["pushes_per_second_while_backlogged"] < 0.8 * args.push_rate:
        failed.append(
            f"pushes went out at {summary['pushes_per_second_while_backlogged']}/s while backlogged,"
            f" under 80 % of the {args.push_rate}/s allowed"
        )
    return failed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=50.0, help="inbound messages a second, both channels")
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument(
        "--push-rate", type=float, default=30.0, help="Telegram pushes a second (the setting)"
    )
    parser.add_argument("--job-after", type=float, default=5.0, help="seconds after start-up the job runs")
    parser.add_argument("--postgres-url", default=os.environ.get("UNIONBOT_TEST_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("UNIONBOT_TEST_REDIS_URL"))
    # WeChat stops waiting for a passive reply after 5 s: a slower reply is one members notice.
    parser.add_argument("--p99-max", type=float, default=5.0, help="seconds")
    parser.add_argument("--rss-growth-max", type=float, default=0.15, help="fraction, after warm-up")
    parser.add_argument(
        "--warmup",
        type=float,
        # The first minute after start-up under full load: the bots' first use of every feature
        # and statement (about 35 s of slow replies on a loaded 2-core machine; bench/RESULTS.md).
        default=60.0,
        help="seconds at the start the error and latency checks leave out (the figures keep them)",
    )
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if not args.postgres_url or not args.redis_url:
        parser.error("needs --postgres-url and --redis-url (or UNIONBOT_TEST_DATABASE_URL / _REDIS_URL)")
    return args


async def soak(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    with tempfile.TemporaryDirectory(prefix="unionbot-soak-") as folder:
        figures = await Soak(args, Path(folder)).run()
    summary = {
        **figures.summary(),
        "machine": figures.machine,
        "args": {
            "minutes": args.minutes,
            "rate": args.rate,
            "recipients": args.recipients,
            "push_rate": args.push_rate,
        },
    }
    if args.out is not None:
        args.out.write_text(
            json.dumps({"summary": summary, "figures": asdict(figures)}, ensure_ascii=False, indent=1)
        )
    return summary, checks(summary, args)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # asyncio.run cancels the soak: its bots are killed, its schema dropped


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parse_args(argv)
    summary, failed = asyncio.run(soak(args))
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    for line in failed:
        print(f"FAILED: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
