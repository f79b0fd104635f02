"""How many Telegram messages a second the whole bot answers, next to a bare echo bot.

Both bots are the real python-telegram-bot ``Application`` in polling mode,
with the same ``ApplicationBuilder`` settings, against one stand-in Bot API
server (``tests/e2e/telegram_stub.py``) on 127.0.0.1. Each bot runs in a
process of its own; the stub and the members it plays run in this one, as
Telegram's servers are not on our machine.

- **full**: :class:`TelegramChannel` with the real core on a fresh, migrated
  database (an SQLite file; a throwaway PostgreSQL schema, dropped after).
  ``--members`` members are each already bound to a Telegram account and have
  the language form (/lang) open. The measured messages alternate between
  answering it ("1" or "3": sets the member's locale, closes the form, opens
  the menu; two replies) and opening it again ("/lang": writes the dialog
  state; one reply), so every message reads and writes the database. The send
  limiter is opened wide (100,000/s, no per-chat spacing) so that this
  measures our code, not Telegram's flood limits.
- **echo**: an Application whose only handler is
  ``await update.message.reply_text(update.message.text)``, sent the same texts.

Pushing: every member writes its first message at once; each then writes its
next message as soon as the reply to the previous one is complete (for the
full bot, the part carrying the keyboard), as people in a dialog do. So up to
``--members`` messages are in flight, one per member, and no answer depends
on the bot keeping one chat's messages in order. Before the measurement,
each member sends "/lang" once (warm-up: connections, caches, the open form).
Every reply is checked (the form, or the menu in the chosen language).

Reported per bot: throughput (messages from the first push to the last
reply), latency from a push to its complete reply arriving at the stub (p50,
p99, from the stub's arrival times), sends per message, and the CPU the bot
process and this process used per message; for the full bot, whose core runs
in a process of its own as under ``python -m bot run``, both of its processes
and the core's share. Goal: the full bot answers at least half as many messages a
second as the echo bot, on SQLite and on PostgreSQL.

Run: ``.venv/bin/python bench/bench_telegram_inbound.py [--messages 1000] [--members 100]
[--database sqlite|postgresql|both] [--runs 1]`` (Linux or macOS: it uses ``resource`` and
``loop.add_reader``). The default database is both when PostgreSQL answers on
127.0.0.1:5432, else SQLite.
"""

from __future__ import annotations

import os

# PTB 22 warns on every read of RetryAfter.retry_after unless it may return a timedelta;
# this must be set before telegram is imported, here and in the bot processes (spawned).
os.environ["PTB_TIMEDELTA"] = "true"

import argparse
import asyncio
import json
import logging
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import fresh_database, machine, own_cpu, percentile, postgres_answers
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.channels.telegram.adapter import (
    CONCURRENT_UPDATES,
    CONNECTION_POOL_SIZE,
    POOL_TIMEOUT,
    TelegramChannel,
    TelegramConfig,
)
from bot.channels.telegram.limits import SendLimiter
from bot.core_runner import ProcessCore
from bot.settings import load_settings
from handlers.core.i18n import Catalogues
from models.accounts import Channel, bind_account, touch_account
from models.base import utcnow
from models.db import SessionFactory, make_engine
from models.ephemeral import MemoryStore
from tests.e2e.telegram_stub import Call, TelegramStub
from tests.factories import make_member

GOAL_RATIO = 0.5
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
# The echo bot gets what TelegramChannel gives its ApplicationBuilder (constants imported above);
# the full bot reports its concurrent_updates and the run stops if they differ.
POLL_TIMEOUT = timedelta(seconds=30)
ALLOWED_UPDATES = ["message", "callback_query"]

FIRST_USER_ID = 900_000_001
ANSWERS = ("1", "/lang", "3", "/lang")  # 1 = 简体中文, 3 = English; then open the form again
OPEN_FORM = "/lang"
LANG_PROMPT = "请选择语言 / 請選擇語言 / Choose a language:"
MENU_PROMPT = "请选择要办理的事项："
LOCALE_OF_ANSWER = {"1": "zh_CN", "3": "en"}

START_TIMEOUT = 60.0  # for a bot process to start and long-poll
STOP_TIMEOUT = 30.0
CHILD_LIFETIME = 900.0  # a bot process stops by itself after this, whatever happens here

log = logging.getLogger("bench")


# -- the bot processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BotSpec:
    """What a bot process needs to start (picklable: it crosses to a spawned process)."""

    kind: str  # "echo" or "full"
    api_root: str
    token: str
    database_url: str | None = None
    schema: str | None = None
    media_dir: str | None = None


def bot_process(spec: BotSpec, conn: Connection) -> None:
    """Entry point of a bot process: serve until told to stop (or CHILD_LIFETIME passes)."""
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_serve(spec, conn))


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


async def _serve(spec: BotSpec, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[str] = asyncio.Queue()

    def receive() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except (EOFError, OSError):  # the benchmark went away: stop
            loop.remove_reader(conn.fileno())
            inbox.put_nowait("stop")

    engine: sa.Engine | None = None
    channel: TelegramChannel | None = None
    core: ProcessCore | None = None
    application: Application[Any, Any, Any, Any, Any, Any]
    if spec.kind == "full":
        assert spec.database_url is not None
        assert spec.media_dir is not None
        url = spec.database_url
        if spec.schema:
            url += f"?options=-csearch_path%3D{spec.schema}"
        # As python -m bot run does it: the core in a process of its own.
        settings = load_settings(database_url=url, data_dir=Path(spec.media_dir).parent)
        engine = make_engine(url)
        sessions = SessionFactory(engine)
        store = MemoryStore()
        catalogues = Catalogues()
        core = ProcessCore(settings, catalogues)
        await core.start()
        channel = TelegramChannel(
            core=core,
            sessions=sessions,
            store=store,
            catalogues=catalogues,
            config=TelegramConfig(token=spec.token, api_root=spec.api_root, media_dir=Path(spec.media_dir)),
            limiter=SendLimiter(per_second=100_000, per_chat_interval=0),
        )
        application = channel.application
        await channel.start()
    else:
        application = (
            ApplicationBuilder()
            .token(spec.token)
            .base_url(f"{spec.api_root}/bot")
            .base_file_url(f"{spec.api_root}/file/bot")
            .concurrent_updates(CONCURRENT_UPDATES)
            .connection_pool_size(CONNECTION_POOL_SIZE)
            .pool_timeout(POOL_TIMEOUT)
            .build()
        )
        application.add_handler(MessageHandler(filters.TEXT, _echo))
        await application.initialize()
        await application.start()
        await application.bot.delete_webhook()
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=POLL_TIMEOUT)

    loop.add_reader(conn.fileno(), receive)
    conn.send(("ready", {"concurrent_updates": application.concurrent_updates}))
    try:
        while True:
            try:
                command = await asyncio.wait_for(inbox.get(), CHILD_LIFETIME)
            except TimeoutError:
                break
            if command == "stop":
                break
            if command == "mark":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                core_cpu = core.cpu_seconds() if core is not None else 0.0
                # The bot's CPU is both its processes'.
                conn.send(("mark", {"cpu": usage.ru_utime + usage.ru_stime + core_cpu, "core": core_cpu}))
    finally:
        loop.remove_reader(conn.fileno())
        if channel is not None:
            await channel.stop()
        if core is not None:
            await core.close()
        else:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
            await application.shutdown()
        if engine is not None:
            engine.dispose()
    conn.send(("stopped", {}))


class BotProcess:
    """A bot process started by the benchmark, with its end of the pipe."""

    def __init__(self, spec: BotSpec) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process with a running loop
        self.conn, child_end = context.Pipe()
        self.process = context.Process(target=bot_process, args=(spec, child_end), name=f"bench-{spec.kind}")
        self.process.start()
        child_end.close()

    async def receive(self, expected: str, timeout: float) -> dict[str, Any]:
        ready = await asyncio.to_thread(self.conn.poll, timeout)
        if not ready:
            raise TimeoutError(f"the bot process said nothing for {timeout} s (waiting for {expected!r})")
        try:
            kind, payload = self.conn.recv()
        except EOFError:
            await asyncio.to_thread(self.process.join, STOP_TIMEOUT)
            raise RuntimeError(
                f"the bot process ended (exit code {self.process.exitcode}) while we waited for {expected!r}"
            ) from None
        if kind != expected:
            raise RuntimeError(f"the bot process said {kind!r}, expected {expected!r}")
        return dict(payload)

    async def mark(self) -> dict[str, Any]:
        self.conn.send("mark")
        return await self.receive("mark", STOP_TIMEOUT)

    async def stop(self) -> None:
        try:
            if self.process.is_alive():
                self.conn.send("stop")
                await self.receive("stopped", STOP_TIMEOUT)
        except (OSError, EOFError, TimeoutError, RuntimeError) as error:
            log.warning("bot process did not stop cleanly: %s", error)
        finally:
            await asyncio.to_thread(self.process.join, STOP_TIMEOUT)
            if self.process.is_alive():
                self.process.terminate()
                await asyncio.to_thread(self.process.join, STOP_TIMEOUT)
            self.conn.close()


# -- the members ---------------------------------------------------------------------------------


@dataclass
class Dialog:
    """One member's messages, sent one at a time: the next only once the reply is complete."""

    user_id: int
    texts: list[str]
    next: int = 0  # how many texts were pushed
    pushed_at: float = 0.0


@dataclass
class Measurement:
    messages: int
    started: float
    finished: float
    latencies: list[float]  # push → complete reply (its last part at the stub), seconds
    sends: int  # successful sendMessage calls

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


ReplyCheck = Callable[[str, dict[str, Any]], str | None]  # (text sent, final part) → complaint or None
Complete = Callable[[dict[str, Any]], bool]  # is this part the last of the reply?


async def converse(
    stub: TelegramStub, dialogs: Sequence[Dialog], complete: Complete, check: ReplyCheck, timeout: float
) -> Measurement:
    """Play every dialog to its end; fail on a wrong, refused or missing reply."""
    calls: list[Call] = stub.calls
    seen = len(calls)
    by_chat = {dialog.user_id: dialog for dialog in dialogs}
    ready = [dialog for dialog in dialogs if dialog.texts]
    total = sum(len(dialog.texts) for dialog in dialogs)
    answered = sends = 0
    latencies: list[float] = []
    problems: list[str] = []
    started = finished = 0.0
    deadline = time.perf_counter() + timeout

    def scan() -> bool:
        nonlocal seen, answered, sends, finished
        while seen < len(calls):
            call = calls[seen]
            seen += 1
            if call.method != "sendMessage":
                continue
            chat = call.params.get("chat_id")
            dialog = by_chat.get(chat) if isinstance(chat, int) else None
            if call.status != 200 or dialog is None or dialog.next == 0:
                problems.append(f"unexpected sendMessage → {call.status}: {call.params}")
                continue
            sends += 1
            if not complete(call.params):
                continue
            complaint = check(dialog.texts[dialog.next - 1], call.params)
            if complaint is not None:
                problems.append(f"user {dialog.user_id}: {complaint}")
            latencies.append(call.at - dialog.pushed_at)
            finished = max(finished, call.at)
            answered += 1
            if dialog.next < len(dialog.texts):
                ready.append(dialog)
        return bool(ready) or bool(problems) or answered >= total

    while True:
        for dialog in ready:
            dialog.pushed_at = time.perf_counter()
            started = started or dialog.pushed_at
            stub.push_message(user_id=dialog.user_id, text=dialog.texts[dialog.next], first_name="会员")
            dialog.next += 1
        ready.clear()
        if answered >= total:
            break
        try:
            await stub.wait_until(scan, timeout=max(0.0, deadline - time.perf_counter()))
        except TimeoutError:
            raise TimeoutError(
                f"{answered} of {total} replies within {timeout} s. {stub.describe_calls()}"
            ) from None
        if problems:
            raise RuntimeError(f"{len(problems)} wrong replies, first: {problems[0]}")
    # Anything sent after the last expected reply is a surprise too (a doubled answer).
    await asyncio.sleep(0.05)
    scan()
    if problems:
        raise RuntimeError(f"{len(problems)} wrong replies, first: {problems[0]}")
    return Measurement(total, started, finished, latencies, sends)


def full_bot_checks(catalogues: Catalogues) -> tuple[Complete, ReplyCheck]:
    """The full bot's reply is complete with the part carrying the keyboard (the prompt)."""
    lang_prompts = {catalogues.get(locale)(LANG_PROMPT) for locale in ("zh_CN", "zh_TW", "en")}
    menus = {answer: catalogues.get(locale)(MENU_PROMPT) for answer, locale in LOCALE_OF_ANSWER.items()}

    def complete(params: dict[str, Any]) -> bool:
        return isinstance(params.get("reply_markup"), dict)

    def check(text: str, params: dict[str, Any]) -> str | None:
        got = str(params.get("text"))
        if text == OPEN_FORM:
            if any(got.startswith(prompt) for prompt in lang_prompts):
                return None
            return f"{text!r} answered {got!r}, not the language form"
        if menus[text] in got:  # the confirmation and the menu travel as one message
            return None
        return f"{text!r} answered {got!r}, not the menu in its language"

    return complete, check


def echo_checks() -> tuple[Complete, ReplyCheck]:
    def complete(params: dict[str, Any]) -> bool:
        return True

    def check(text: str, params: dict[str, Any]) -> str | None:
        return None if params.get("text") == text else f"{text!r} echoed as {params.get('text')!r}"

    return complete, check


def dialogs_for(members: int, messages: int) -> list[Dialog]:
    """``messages`` spread over ``members`` (the first ones take the remainder)."""
    each, extra = divmod(messages, members)
    return [
        Dialog(FIRST_USER_ID + n, [ANSWERS[i % len(ANSWERS)] for i in range(each + (n < extra))])
        for n in range(members)
    ]


# -- databases -----------------------------------------------------------------------------------


def seed(sessions: SessionFactory, members: int) -> None:
    now = utcnow()
    with sessions() as session:
        for n in range(members):
            member = make_member(
                session, employee_no=f"{200_000 + n}", name=f"会员{n:03d}", phone=f"139{n:08d}"
            )
            account = touch_account(
                session, channel=Channel.TELEGRAM.value, external_id=str(FIRST_USER_ID + n), now=now
            )
            bind_account(session, account=account, member=member, now=now)


# -- one measurement -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """What a bot process spent during the measurement."""

    cpu: float  # CPU seconds of the bot, its core's process included
    core_cpu: float  # CPU seconds of the core's process alone (0 for the echo bot)

    @classmethod
    def between(cls, before: dict[str, Any], after: dict[str, Any]) -> Usage:
        return cls(after["cpu"] - before["cpu"], after["core"] - before["core"])


@dataclass
class Result:
    label: str
    measurement: Measurement
    usage: Usage
    stub_cpu: float  # CPU seconds of this process (the stub and the members) meanwhile


async def measure(
    stub: TelegramStub, spec: BotSpec, label: str, args: argparse.Namespace, catalogues: Catalogues
) -> Result:
    # The previous bot confirmed its last updates and hung up its long poll when it stopped.
    await stub.wait_until(
        lambda: not stub.pending_updates and not stub.polling, timeout=STOP_TIMEOUT, what="an idle stub"
    )
    complete, check = full_bot_checks(catalogues) if spec.kind == "full" else echo_checks()
    bot = BotProcess(spec)
    try:
        info = await bot.receive("ready", START_TIMEOUT)
        if info["concurrent_updates"] != CONCURRENT_UPDATES:
            raise SystemExit(
                f"TelegramChannel now uses concurrent_updates={info['concurrent_updates']}; "
                f"set CONCURRENT_UPDATES to match"
            )
        await stub.wait_until(lambda: stub.polling > 0, timeout=START_TIMEOUT, what=f"{label} polling")
        warm = [Dialog(FIRST_USER_ID + n, [OPEN_FORM]) for n in range(args.members)]
        await converse(stub, warm, complete, check, args.timeout)
        before, stub_before = await bot.mark(), own_cpu()
        measurement = await converse(
            stub, dialogs_for(args.members, args.messages), complete, check, args.timeout
        )
        after, stub_after = await bot.mark(), own_cpu()
    finally:
        await bot.stop()
    return Result(label, measurement, Usage.between(before, after), stub_after - stub_before)


async def run(args: argparse.Namespace, databases: list[str], workdir: Path) -> dict[str, list[Result]]:
    catalogues = Catalogues()
    results: dict[str, list[Result]] = {}
    async with TelegramStub() as stub:
        for number in range(args.runs):
            if args.runs > 1:
                print(f"run {number + 1} of {args.runs}…", flush=True)
            echo = BotSpec("echo", stub.url, stub.token)
            results.setdefault("echo", []).append(await measure(stub, echo, "echo", args, catalogues))
            for kind in databases:
                with fresh_database(
                    kind,
                    workdir,
                    args.postgres_url,
                    seed=lambda sessions: seed(sessions, args.members),
                    schema_prefix="unionbot_bench",
                ) as db:
                    spec = BotSpec("full", stub.url, stub.token, db.url, db.schema, str(workdir / "media"))
                    label = f"full, {kind}"
                    results.setdefault(label, []).append(await measure(stub, spec, label, args, catalogues))
    return results


# -- report --------------------------------------------------------------------------------------


def median_of(results: Sequence[Result], value: Callable[[Result], float]) -> float:
    return statistics.median(value(result) for result in results)


def report(results: dict[str, list[Result]], runs: int) -> bool:
    """Print the table (medians over the runs) and say whether the goal was met."""
    echo_rate = median_of(results["echo"], lambda r: r.measurement.rate)
    print(
        "\nthroughput: messages from the first push to the last reply; latency: push → complete reply"
        + (f"; medians of {runs} runs, msg/s min–max at the end" if runs > 1 else "")
    )
    header = (
        f"{'bot':<17} {'msgs':>5} {'seconds':>7} {'msg/s':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'sends/msg':>9} {'bot CPU ms/msg':>14} {'stub CPU ms/msg':>15} {'vs echo':>7}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for label, rows in results.items():
        rate = median_of(rows, lambda r: r.measurement.rate)
        ratio = rate / echo_rate
        line = (
            f"{label:<17} {rows[0].measurement.messages:>5} "
            f"{median_of(rows, lambda r: r.measurement.seconds):>7.2f} {rate:>6.0f} "
            f"{median_of(rows, lambda r: percentile(r.measurement.latencies, 0.50)) * 1000:>7.0f} "
            f"{median_of(rows, lambda r: percentile(r.measurement.latencies, 0.99)) * 1000:>7.0f} "
            f"{median_of(rows, lambda r: r.measurement.sends / r.measurement.messages):>9.2f} "
            f"{median_of(rows, lambda r: r.usage.cpu / r.measurement.messages) * 1000:>14.2f} "
            f"{median_of(rows, lambda r: r.stub_cpu / r.measurement.messages) * 1000:>15.2f} "
            f"{ratio:>7.2f}"
        )
        if runs > 1:
            rates = [r.measurement.rate for r in rows]
            line += f"   ({min(rates):.0f}–{max(rates):.0f})"
        print(line)
        if label != "echo":
            ok = ok and ratio >= GOAL_RATIO
    for label, rows in results.items():
        if label == "echo":
            continue
        cpu = median_of(rows, lambda r: r.usage.core_cpu / r.measurement.messages) * 1000
        print(f"{label}: of the bot's CPU, {cpu:.2f} ms per message in the core's process")
    print(f"goal: the full bot at least {GOAL_RATIO:.0%} of the echo bot's rate: {'met' if ok else 'MISSED'}")
    return ok


def figures(results: dict[str, list[Result]]) -> dict[str, dict[str, float]]:
    """Medians by bot, for a script (``--json``): the rates and CPU per message, and each against echo's."""
    echo_rate = median_of(results["echo"], lambda r: r.measurement.rate)
    echo_cpu = median_of(results["echo"], lambda r: r.usage.cpu / r.measurement.messages)
    found: dict[str, dict[str, float]] = {}
    for label, rows in results.items():
        rate = median_of(rows, lambda r: r.measurement.rate)
        cpu = median_of(rows, lambda r: r.usage.cpu / r.measurement.messages)
        core_cpu = median_of(rows, lambda r: r.usage.core_cpu / r.measurement.messages)
        found[label] = {
            "rate": rate,
            "cpu_ms_per_message": cpu * 1000,
            "core_cpu_ms_per_message": core_cpu * 1000,
            "rate_vs_echo": rate / echo_rate,
            "cpu_echo_over_bot": echo_cpu / cpu,
        }
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=1000, help="measured messages per bot (1000)")
    parser.add_argument("--members", type=int, default=100, help="members writing at once (100)")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        help="default: both when PostgreSQL answers on 127.0.0.1:5432, else sqlite",
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat everything; the table shows medians")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per measurement")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="write the medians to this file as well (bench/check.py)")
    args = parser.parse_args(argv[1:])
    if args.members < 1 or args.messages < args.members or args.runs < 1:
        parser.error("need --members ≥ 1, --messages ≥ --members and --runs ≥ 1")

    if sa.engine.make_url(args.postgres_url).host not in LOOPBACK:
        parser.error("the benchmark only talks to a PostgreSQL on 127.0.0.1")

    logging.basicConfig(level=logging.WARNING)
    postgres = postgres_answers(args.postgres_url)
    choice = args.database or ("both" if postgres else "sqlite")
    databases = ["sqlite", "postgresql"] if choice == "both" else [choice]
    if "postgresql" in databases and not postgres:
        parser.error(f"nothing answers at {args.postgres_url}")
    print(f"machine: {machine(databases, args.postgres_url, ('python-telegram-bot', 'httpx', 'httpcore'))}")
    print(
        f"{args.messages} messages from {args.members} members, each waiting for the reply before its "
        f"next message; databases: {', '.join(databases)}"
    )
    with tempfile.TemporaryDirectory(prefix="unionbot-bench-") as folder:
        results = asyncio.run(run(args, databases, Path(folder)))
    met = report(results, args.runs)
    if args.json is not None:
        args.json.write_text(json.dumps(figures(results), indent=2) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
