"""Real bot processes against the stand-ins: what the kill tests and the soak (bench/soak.py) share.

A bot process here is ``python -m bot run`` (or ``run --only worker``) in a
session of its own, so ``kill()`` is a kill -9 of the whole process group: the
bot and the core process it started, as a crashed machine or an OOM kill would
leave them. Its log goes to a file (a pipe nobody reads would fill and block it).

:class:`HoldingStub` is the stand-in Telegram server with one more fault: after
the n-th message it keeps every answer back until released. The requests that
arrived are recorded first, so a test knows exactly which ones may have reached
members when it kills the bot at that moment, instead of after a guessed sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any

from aiohttp import web
from sqlmodel import col, func, select

from handlers.modules import REGISTRY
from models.accounts import ChatAccount
from models.base import utcnow
from models.db import SessionFactory
from models.members import Member
from models.notices import Notice, NoticeCategory, NoticeDraft, Target, TargetKind, create_notice
from models.outbox import Outbox, OutboxStatus
from models.roles import Role, grant_role
from models.units import UnitTree
from tests.e2e.telegram_stub import Call, TelegramStub

REPO = Path(__file__).resolve().parents[2]
CHAIR_CHAT = 4_000_000
FIRST_CHAT = 5_000_000
WORKSHOP = "厂工会/一车间"
_SENDS = ("sendMessage", "editMessageText", "sendPhoto", "sendDocument")
# Set in a request's task when its answer is to be held (each aiohttp request runs in a task of its own).
_HOLD_THIS: contextvars.ContextVar[bool] = contextvars.ContextVar("hold_this", default=False)


def bot_code(args: list[str], *, extra_module: str | None = None, startup_delay: float | None = None) -> str:
    """The ``python -c`` program of a bot process: ``bot.cli.main(args)``, with a module of the tests' own.

    ``extra_module`` names a module whose ``MODULE`` joins the bot's (a job or topic of a test's
    own); ``startup_delay`` replaces the scheduler's wait before its catch-up runs.
    """
    lines = ["import sys", "import handlers.modules as modules"]
    if extra_module is not None:
        lines += [
            "import importlib",
            f"modules.REGISTRY = modules.registry(importlib.import_module({extra_module!r}).MODULE)",
        ]
    if startup_delay is not None:
        lines += [
            "import datetime, scheduler.runner as runner",
            f"runner.STARTUP_DELAY = datetime.timedelta(seconds={startup_delay!r})",
        ]
    lines += ["from bot.cli import main", f"sys.exit(main({args!r}))"]
    return "\n".join(lines)


def bot_env(settings: Mapping[str, Any], **extra: str) -> dict[str, str]:
    """The environment of a bot process: ours without any UNIONBOT_ setting, the features' jobs
    off (the extra module's job alone runs), then ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("UNIONBOT_")}
    if "UNIONBOT_DATA_KEY" in os.environ:
        env["UNIONBOT_DATA_KEY"] = os.environ["UNIONBOT_DATA_KEY"]
    env["PTB_TIMEDELTA"] = "true"
    env["PYTHONPATH"] = str(REPO)
    # The features' own jobs stay off: at start-up they would catch up on this month's calls, dues
    # reminders and ranking digest to every member, burying the notice and the job under test.
    env["UNIONBOT_JOB_SCHEDULES"] = json.dumps({job.id: "off" for job in REGISTRY.jobs})
    for name, value in settings.items():
        if value is not None:
            env[f"UNIONBOT_{name.upper()}"] = str(value)
    env.update(extra)
    return env


class BotProcess:
    """One bot process: start, stop (SIGTERM), kill (SIGKILL to its whole group), memory, log."""

    def __init__(self, code: str, env: Mapping[str, str], log_path: Path) -> None:
        self.code = code
        self.env = dict(env)
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    async def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            self.code,
            cwd=REPO,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def kill(self) -> None:
        """kill -9 of the process and every process it started."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()
        self._close_log()

    async def stop(self, timeout: float = 60) -> int:
        """SIGTERM, and the exit code once it stopped (killed after ``timeout``: the test fails then)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.kill()
        self._close_log()
        assert self.process.returncode is not None
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def rss_kib(self) -> int:
        """Resident memory of the process and its children (the core process), KiB; 0 once gone."""
        return sum(_rss(pid) for pid in (self.pid, *_descendants(self.pid)))

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class HoldingStub(TelegramStub):
    """The stand-in Telegram server: :meth:`hold_after` holds answers, :attr:`on_sent` hears each message."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.sends = 0
        self.held: list[int] = []  # the chats whose message arrived and is held
        self.on_sent: Callable[[Call], None] | None = None
        self._hold_at: int | None = None
        self._release = asyncio.Event()
        self._held_changed = asyncio.Event()

    def hold_after(self, count: int) -> None:
        """From the ``count``-th message on, record each and answer none until :meth:`release`."""
        self._hold_at = count
        self._release.clear()

    def release(self) -> None:
        self._hold_at = None
        self._release.set()

    async def wait_held(self, count: int, timeout: float) -> list[int]:
        """Wait until ``count`` messages are held (each is a request the bot has sent)."""

        async def enough() -> None:
            while len(self.held) < count:
                self._held_changed.clear()
                await self._held_changed.wait()

        await asyncio.wait_for(enough(), timeout)
        return list(self.held)

    def _finish(self, call: Call) -> None:
        super()._finish(call)
        if call.method not in _SENDS or call.status != HTTPStatus.OK:
            return
        self.sends += 1
        if self.on_sent is not None:
            self.on_sent(call)
        if self._hold_at is not None and self.sends >= self._hold_at:
            chat = call.params.get("chat_id")
            self.held.append(int(chat) if isinstance(chat, int) else int(str(chat)))
            _HOLD_THIS.set(True)  # the request's own task: its answer waits (_handle_api)
            self._held_changed.set()

    async def _handle_api(self, request: web.Request) -> web.Response:
        _HOLD_THIS.set(False)
        response = await super()._handle_api(request)
        if _HOLD_THIS.get():
            await self._release.wait()
        return response

    def per_chat(self, method: str = "sendMessage") -> Counter[int]:
        """How many messages each chat got (requests Telegram accepted)."""
        return Counter(
            int(call.params["chat_id"])
            for call in self.calls
            if call.method == method and call.status == HTTPStatus.OK
        )


# -- the union the tests and the soak work on -------------------------------------------------------


@dataclass(frozen=True)
class Union:
    chair_id: int
    member_ids: tuple[int, ...]


def seed_union(
    sessions: SessionFactory, members: int, *, wechat_every: int = 0, first_chat: int = FIRST_CHAT
) -> Union:
    """The chair of the whole union (Telegram chat CHAIR_CHAT) and ``members`` members of 一车间.

    Member n has Telegram chat ``first_chat + n``; with ``wechat_every`` k, every k-th also has a
    WeChat account seen just now (openid ``openid-n``), which it prefers.
    """
    with sessions() as session:
        tree = UnitTree(session)
        union, workshop = tree.ensure("厂工会"), tree.ensure(WORKSHOP)
        assert union.id is not None
        assert workshop.id is not None
        chair = Member(employee_no="C1", name="王主席", unit_id=union.id)
        session.add(chair)
        session.flush()
        grant_role(session, member=chair, role=Role.CHAIR, unit=union)
        session.add(ChatAccount(channel="telegram", external_id=str(CHAIR_CHAT), member_id=chair.id))
        rows = [Member(employee_no=f"E{n}", name=f"会员{n}", unit_id=workshop.id) for n in range(members)]
        session.add_all(rows)
        session.flush()
        now = utcnow()
        for n, member in enumerate(rows):
            session.add(ChatAccount(channel="telegram", external_id=str(first_chat + n), member_id=member.id))
            if wechat_every and n % wechat_every == 0:
                member.preferred_channel = "wechat"
                session.add(
                    ChatAccount(
                        channel="wechat", external_id=f"openid-{n}", member_id=member.id, last_seen_at=now
                    )
                )
        session.flush()
        assert chair.id is not None
        return Union(chair.id, tuple(member.id for member in rows if member.id is not None))


def send_notice(sessions: SessionFactory, union: Union, title: str = "本周六停水通知") -> int:
    """The chair's notice to everyone in 一车间, due now; its id."""
    with sessions() as session:
        chair = session.get(Member, union.chair_id)
        workshop = UnitTree(session).find(WORKSHOP)
        assert chair is not None
        assert workshop is not None
        assert workshop.id is not None
        draft = NoticeDraft(
            title=title,
            body="因管道检修，本周六 8:00-17:00 一车间停水，请大家提前储水。",
            category=NoticeCategory.NOTICE,
            target=Target(TargetKind.UNITS, (workshop.id,)),
        )
        notice: Notice = create_notice(session, actor=chair, draft=draft, now=utcnow())
        assert notice.id is not None
        return notice.id


def outbox_statuses(sessions: SessionFactory, *conditions: Any) -> Counter[OutboxStatus]:
    with sessions() as session:
        rows = session.exec(
            select(Outbox.status, func.count()).where(*conditions).group_by(col(Outbox.status))
        ).all()
    return Counter({OutboxStatus(status): count for status, count in rows})


OPEN = (OutboxStatus.QUEUED, OutboxStatus.CLAIMED, OutboxStatus.SENDING)


async def settled(sessions: SessionFactory, *conditions: Any, timeout: float) -> Counter[OutboxStatus]:
    """Wait until none of the rows meeting ``conditions`` waits or is on its way (looked at every 0.1 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        counts = await asyncio.to_thread(outbox_statuses, sessions, *conditions)
        if not any(counts[status] for status in OPEN):
            return counts
        if loop.time() > deadline:
            raise TimeoutError(f"pushes still open after {timeout} s: {dict(counts)}")
        await asyncio.sleep(0.1)
