"""``python -m bot outbox status|retry-failed`` as an admin uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.cli import main
from bot.delivery.rates import ChannelLimit, MemoryRates
from bot.delivery.worker import DeliveryWorker, WorkerConfig
from bot.settings import Settings, load_settings
from handlers.core.i18n import Catalogues
from handlers.modules import REGISTRY
from handlers.notices.render import report_lines
from models.base import utcnow
from models.ephemeral import MemoryStore
from models.notices import NoticeCategory, NoticeDraft, Target, TargetKind, create_notice, notice_report
from models.outbox import Outbox, OutboxStatus, PushKind, claim, mark_sending, record_failed, recover
from models.roles import Role
from models.units import find_unit
from tests.bot.delivery.helpers import FakePusher, FakeTime, member_with, queue
from tests.conftest import DATABASES, TEST_DATABASE_URL, drop_postgres_schema, postgres_engine
from tests.factories import bind, make_member


@pytest.fixture(params=DATABASES)
def app(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[App]:
    """The CLI's settings, on a SQLite file of its own or a PostgreSQL schema of its own."""
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "en")
    for name in ("UNIONBOT_REDIS_URL", "UNIONBOT_DATABASE_URL", "UNIONBOT_TELEGRAM_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    schema = None
    if request.param == "postgresql":
        assert TEST_DATABASE_URL
        schema = f"unionbot_cli_{uuid.uuid4().hex[:12]}"
        postgres_engine(TEST_DATABASE_URL, schema).dispose()
        monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"{TEST_DATABASE_URL}?options=-csearch_path%3D{schema}")
    apps: list[App] = []  # the test's and those main() builds, to close their connections after

    def tracked(settings: Settings) -> App:
        apps.append(App(settings))
        return apps[-1]

    monkeypatch.setattr("bot.cli.App", tracked)
    built = tracked(load_settings())
    built.prepare()
    yield built
    for each in apps:
        if "engine" in each.__dict__:
            each.engine.dispose()
    if schema is not None:
        assert TEST_DATABASE_URL
        drop_postgres_schema(TEST_DATABASE_URL, schema)


def columns(out: str, row: str) -> dict[str, str]:
    """The cells of one row of the printed table, by their column's header."""
    lines = [line for line in out.splitlines() if line.startswith("┃") or line.startswith("│")]
    headers = [cell.strip() for cell in lines[0].strip("┃").split("┃")]
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if cells[0] == row:
            return dict(zip(headers, cells, strict=True))
    raise AssertionError(f"no row {row!r} in:\n{out}")


def test_status_counts_per_kind_and_lists_the_uncertain(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "zh_CN")
    assert main(["outbox", "status"]) == 0
    assert "推送队列是空的。" in capsys.readouterr().out
    with app.sessions() as session:
        members = [member_with(session, f"10{n}", telegram=n) for n in range(4)]
        queue(session, members, kind=PushKind.REMINDER)
    now = utcnow()
    with app.sessions() as session:
        rows = claim(session, worker_id="gone", now=now, limit=2)
        ids = [row.id for row in rows if row.id is not None]
        record_failed(session, ids[0], worker_id="gone", channel="telegram", error="blocked")
        mark_sending(session, ids[1:], worker_id="gone")
        recover(session, workers={"gone"}, resend_uncertain=False, now=now)
    assert main(["outbox", "status"]) == 0
    out = capsys.readouterr().out
    assert columns(out, "提醒") == {
        "类型": "提醒",
        "已发送": "0",
        "发送失败": "0",
        "没有可用账号": "0",
        "已屏蔽或取消关注": "1",
        "不确定是否送达": "1",
        "等待发送": "2",
        "已撤回": "0",
    }
    assert "无法确定会员是否收到" in out
    assert "│ 101 " in out  # the employee number of the uncertain one


async def test_status_and_the_cadres_report_count_a_notice_in_the_same_words(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pushes to members with no account: "没有可用账号" in both, not 失败 in one and 0 in the other."""
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "zh_CN")
    with app.sessions() as session:
        cadre = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
        bind(session, cadre)
        bind(session, make_member(session, employee_no="1001"))
        for employee_no in ("1002", "1003"):  # on the roster, never bound
            make_member(session, employee_no=employee_no, unit="厂工会/一车间/乙班")
        target = Target(TargetKind.UNITS, (find_unit(session, "厂工会/一车间").id or 0,))
        draft = NoticeDraft(
            title="停水通知", body="周六停水。", category=NoticeCategory.NOTICE, target=target
        )
        notice = create_notice(session, actor=cadre, draft=draft, now=utcnow())
    worker = DeliveryWorker(
        sessions=app.sessions,
        store=MemoryStore(),
        rates=MemoryRates({"telegram": ChannelLimit(10_000)}, clock=(fake := FakeTime()), sleep=fake.sleep),
        pushers={"telegram": FakePusher("telegram")},
        catalogues=Catalogues(),
        config=WorkerConfig(),
        pushes=REGISTRY.pushes,
    )
    while await worker.run_once():
        pass
    assert main(["outbox", "status"]) == 0
    table = columns(capsys.readouterr().out, "通知公告")
    with app.sessions() as session:
        assert notice.id is not None
        _, report = notice_report(session, actor=cadre, notice_id=notice.id)
        lines = report_lines(Catalogues().get("zh_CN"), report, app.settings.zone)
    assert "发送失败：0" in lines
    assert "没有可用账号：2" in lines
    # The table counts the author's progress message too: one more notice push sent.
    assert (table["发送失败"], table["没有可用账号"], table["已发送"]) == ("0", "2", "3")


def test_retry_failed_queues_a_kinds_failed_pushes_again(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    with app.sessions() as session:
        queue(session, [member_with(session, "1", telegram=1)], kind=PushKind.NOTICE)
    now = utcnow()
    with app.sessions() as session:
        [row] = claim(session, worker_id="w", now=now, limit=1)
        assert row.id is not None
        record_failed(session, row.id, worker_id="w", channel=None, error="no active account")
    assert main(["outbox", "retry-failed", "reminder"]) == 0
    assert "Queued 0 pushes again" in capsys.readouterr().out
    assert main(["outbox", "retry-failed", "notice"]) == 0
    assert "Queued 1 push again (Notices)." in capsys.readouterr().out
    with app.sessions() as session:
        assert session.exec(select(Outbox.status)).one() is OutboxStatus.QUEUED


def test_status_says_which_channel_each_uncertain_push_may_have_reached(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "zh_CN")
    with app.sessions() as session:
        members = [member_with(session, f"20{n}", telegram=n, wechat=f"o{n}") for n in range(3)]
        queue(session, members, kind=PushKind.NOTICE)
    now = utcnow()
    with app.sessions() as session:
        rows = claim(session, worker_id="killed", now=now, limit=3)
        ids = [row.id for row in rows if row.id is not None]
        mark_sending(session, ids[:2], worker_id="killed", channel="wechat")  # on their way when it died
        recover(session, workers={"killed"}, resend_uncertain=False, now=now)
    assert main(["outbox", "status"]) == 0
    out = capsys.readouterr().out
    assert columns(out, "通知公告")["不确定是否送达"] == "2"
    assert "渠道 wechat：2 条不确定" in out
    assert out.count("│ wechat ") == 2  # and each listed with it
