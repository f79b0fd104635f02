"""``python -m bot members …`` as an admin uses it, on a SQLite file or a PostgreSQL schema of its own."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from sqlmodel import Session, select

from bot.app import App
from bot.cli import main
from bot.cli_members import mask_phone
from bot.roster_files import read_roster
from bot.settings import Settings
from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory, make_engine
from models.ephemeral import MemoryStore
from models.invites import redeem_invite
from models.members import Member, MemberStatus
from models.roles import Role, grants_of
from models.roster import RosterImportRun, rows_digest, unfinished_import, validate_rows
from models.units import Unit, UnitTree
from tests.conftest import DATABASES, TEST_DATABASE_URL, drop_postgres_schema, postgres_engine
from tests.factories import HOSTILE_NAME, bind
from tests.handlers.conftest import Chat

HEADER = "工号,姓名,单位,手机,角色,月会费,状态\n"
GOOD_ROWS = (
    "1001,王建国,厂工会,13801012345,管理员,45,在册\n"
    "2001,李秀英,厂工会/一车间,13601137720,工会主席,42,在册\n"
    f"2101,{HOSTILE_NAME},厂工会/一车间/甲班,13957462108,,25,在册\n"
)

Run = Callable[..., int]


@pytest.fixture(params=DATABASES)
def database(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[SessionFactory]:
    """The CLI's settings point at a fresh SQLite file or PostgreSQL schema; the test reads it here."""
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("UNIONBOT_TELEGRAM_BOT_USERNAME", raising=False)
    monkeypatch.delenv("UNIONBOT_TIMEZONE", raising=False)
    monkeypatch.delenv("UNIONBOT_DEFAULT_LOCALE", raising=False)
    schema = None
    url = f"sqlite:///{tmp_path / 'unionbot.db'}"
    if request.param == "postgresql":
        assert TEST_DATABASE_URL
        schema = f"unionbot_cli_{uuid.uuid4().hex[:12]}"
        postgres_engine(TEST_DATABASE_URL, schema).dispose()
        url = f"{TEST_DATABASE_URL}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv("UNIONBOT_DATABASE_URL", url)
    apps: list[App] = []  # those main() builds, to close their connections after

    def tracked(settings: Settings) -> App:
        apps.append(App(settings))
        return apps[-1]

    monkeypatch.setattr("bot.cli.App", tracked)
    engine = make_engine(url)
    yield SessionFactory(engine)
    engine.dispose()
    for app in apps:
        if "engine" in app.__dict__:
            app.engine.dispose()
    if schema is not None:
        assert TEST_DATABASE_URL
        drop_postgres_schema(TEST_DATABASE_URL, schema)


@pytest.fixture
def members(database: SessionFactory) -> Run:
    def run(*argv: str | Path) -> int:
        return main(["members", *(str(arg) for arg in argv)])

    return run


def csv_file(tmp_path: Path, body: str, name: str = "花名册.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8-sig")
    return path


def count_members(database: SessionFactory) -> int:
    with database() as session:
        return session.exec(select(sa.func.count()).select_from(Member)).one()


def get(session: Session, employee_no: str) -> Member:
    return session.exec(select(Member).where(Member.employee_no == employee_no)).one()


# -- import -------------------------------------------------------------------


def test_import_reports_what_it_did(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert members("import", csv_file(tmp_path, GOOD_ROWS)) == 0
    assert "新增 3 人，更新 0 人，未变 0 人；新建单位 3 个" in capsys.readouterr().out
    assert count_members(database) == 3


def test_importing_the_same_file_twice_changes_nothing(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(tmp_path, GOOD_ROWS)
    members("import", path)
    capsys.readouterr()
    assert members("import", path) == 0
    assert "新增 0 人，更新 0 人，未变 3 人；新建单位 0 个" in capsys.readouterr().out
    assert count_members(database) == 3


def test_one_bad_row_stops_the_whole_import_and_each_is_listed(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(
        tmp_path, GOOD_ROWS + "2102,陈静,厂工会/一车间/甲班,12345,,25,在册\n2001,李秀,厂工会,,,,\n"
    )
    assert members("import", path) == 1
    err = capsys.readouterr().err
    assert "第 5 行：手机号应为 11 位数字，以 1 开头。" in err
    assert "第 6 行：工号 2001 与第 3 行重复。" in err
    assert "有 2 行数据有误，没有导入任何会员。" in err
    assert "--skip-invalid" in err
    assert count_members(database) == 0


def test_skip_invalid_imports_the_good_rows_and_still_lists_the_bad(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(tmp_path, GOOD_ROWS + "2102,陈静,,13800001234,,25,在册\n")
    assert members("import", path, "--skip-invalid") == 0
    captured = capsys.readouterr()
    assert "第 5 行：单位不能为空" in captured.err
    assert "新增 3 人" in captured.out
    assert "已跳过 1 行有误的数据" in captured.out
    assert count_members(database) == 3


def test_a_file_with_a_missing_column_names_it(
    members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("工号,姓名,手机\n1001,张三,13800001234\n", encoding="utf-8")
    assert members("import", path) == 1
    assert "表头缺少“单位”列" in capsys.readouterr().err


def test_wrong_use_exits_with_two(members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert members("import", tmp_path / "roster.xls") == 2
    assert "只支持 .xlsx 和 .csv" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        members("import")
    assert caught.value.code == 2


def test_a_missing_file_is_reported(members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert members("import", tmp_path / "nowhere.csv") == 1
    assert "找不到文件" in capsys.readouterr().err


# -- export -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_export_imports_back_unchanged(
    members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    exported = tmp_path / f"导出{suffix}"
    assert members("export", exported) == 0
    assert "已导出 3 名会员" in capsys.readouterr().out
    assert members("import", exported) == 0
    assert "新增 0 人，更新 0 人，未变 3 人" in capsys.readouterr().out


def test_export_of_one_unit(members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    assert members("export", tmp_path / "一车间.csv", "--unit", "厂工会/一车间") == 0
    assert "已导出 2 名会员" in capsys.readouterr().out
    assert members("export", tmp_path / "x.csv", "--unit", "厂工会/九车间") == 1
    assert "找不到单位“厂工会/九车间”" in capsys.readouterr().err


# -- list ---------------------------------------------------------------------


def test_list_masks_phones_and_shows_names_verbatim(
    members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    members("grant", "2101", "小组长", "厂工会/一车间/甲班")
    capsys.readouterr()
    assert members("list") == 0
    out = capsys.readouterr().out
    assert "139****2108" in out
    assert "13957462108" not in out
    assert HOSTILE_NAME in out
    assert "工会小组长" in out
    assert "共 3 名会员。" in out


def test_list_of_one_unit(members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    capsys.readouterr()
    assert members("list", "--unit", "厂工会/一车间/甲班") == 0
    out = capsys.readouterr().out
    assert "2101" in out
    assert "王建国" not in out


# Units created in an order nobody would list them in: 丙班 before 乙班 before 甲班, 十车间 before 二车间.
UNORDERED_ROWS = (
    "1001,王建国,厂工会,13801012345,管理员,45,在册\n"
    "3001,马超,厂工会/一车间/丙班,,,20,在册\n"
    "3002,赵磊,厂工会/一车间/乙班,,,20,在册\n"
    "3003,李娜,厂工会/一车间/甲班,,,20,在册\n"
    "4001,韩雪,厂工会/十车间,,,20,在册\n"
    "4002,唐伟,厂工会/二车间,,,20,在册\n"
    "4003,许文,厂工会/机修车间,,,20,在册\n"
    "4004,宋志刚,厂工会/二车间/甲班,,,20,在册\n"
)


def listed_numbers(out: str) -> list[str]:
    return re.findall(r"^│ (\w+) +│", out, flags=re.MULTILINE)


def test_list_puts_units_in_the_unions_order_and_shows_who_is_bound(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members("import", csv_file(tmp_path, UNORDERED_ROWS))
    with database() as session:
        bind(session, get(session, "3003"))
        bind(session, get(session, "3003"), channel="wechat")
        bind(session, get(session, "4002"), channel="wechat")
        bind(session, get(session, "4003"), active=False)  # unbound since: not bound any more
    capsys.readouterr()
    assert members("list") == 0
    out = capsys.readouterr().out
    assert listed_numbers(out) == ["1001", "3003", "3002", "3001", "4002", "4004", "4001", "4003"]
    assert re.search(r"│ 3003 .*│ Telegram、微信 +│", out)
    assert re.search(r"│ 4002 .*│ 微信 +│", out)
    assert re.search(r"│ 4003 .*│ 未绑定 +│", out)
    assert (
        "共 8 名会员。\n已绑定 2 名，未绑定 6 名。\n未绑定的会员可以用 members invite 工号 生成绑定码。"
        in out
    )


def test_unit_takes_a_unique_name_and_lists_the_matches_of_an_ambiguous_one(
    members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members("import", csv_file(tmp_path, UNORDERED_ROWS))
    capsys.readouterr()
    assert members("list", "--unit", "二车间") == 0
    assert listed_numbers(capsys.readouterr().out) == ["4002", "4004"]
    assert members("list", "--unit", "二车间/甲班") == 0
    assert listed_numbers(capsys.readouterr().out) == ["4004"]
    assert members("list", "--unit", "甲班") == 1
    assert capsys.readouterr().err.strip() == (
        "“甲班”对应 2 个单位：厂工会/一车间/甲班、厂工会/二车间/甲班。"
        "请写出完整路径，例如“厂工会/一车间/甲班”。"
    )
    assert members("list", "--unit", "九车间") == 1
    assert "找不到单位“九车间”" in capsys.readouterr().err
    assert members("export", tmp_path / "二车间.csv", "--unit", "二车间") == 0
    assert "已导出 2 名会员" in capsys.readouterr().out
    assert members("grant", "3003", "委员", "一车间") == 0
    assert "在“厂工会/一车间”的工会委员角色" in capsys.readouterr().out


def test_commands_do_not_print_alembics_chatter(members: Run, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert members("list") == 0
    assert members("list") == 0
    assert [record for record in caplog.records if record.name.startswith("alembic")] == []
    migrated = [record.getMessage() for record in caplog.records if record.name == "bot.database"]
    assert len(migrated) == 1  # the first command built the schema and says so; the second, nothing
    assert migrated[0].startswith("database migrated from an empty schema to ")


@pytest.mark.parametrize(
    ("phone", "masked"), [("13800001234", "138****1234"), (None, ""), ("", ""), ("12345", "****")]
)
def test_mask_phone(phone: str | None, masked: str) -> None:
    assert mask_phone(phone) == masked


# -- invite -------------------------------------------------------------------

CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")


def test_invite_prints_a_code_that_binds_and_when_it_expires(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    capsys.readouterr()
    now = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        assert members("invite", "2101") == 0
    out = capsys.readouterr().out
    match = CODE.search(out)
    assert match is not None
    assert "有效期至 2026-12-01 01:00（Asia/Shanghai）" in out  # 7 days later, in Beijing time
    assert "UNIONBOT_TELEGRAM_BOT_USERNAME" in out
    with database() as session:
        bound = redeem_invite(session, code=match.group(), now=now + timedelta(days=1))
        assert bound is not None
        assert bound.employee_no == "2101"


def test_invite_gives_a_telegram_link_when_the_bot_name_is_set(
    members: Run,
    database: SessionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    monkeypatch.setenv("UNIONBOT_TELEGRAM_BOT_USERNAME", "@UnionHelperBot")
    capsys.readouterr()
    assert members("invite", "2101") == 0
    out = capsys.readouterr().out
    link = re.search(r"https://t\.me/UnionHelperBot\?start=([A-Z2-9]{8})\b", out)
    assert link is not None
    with database() as session:
        assert redeem_invite(session, code=link.group(1), now=datetime.now(UTC)) is not None


def test_invite_for_someone_unknown_or_gone(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS + "3001,何平,厂工会,,,,退会\n"))
    capsys.readouterr()
    assert members("invite", "9999") == 1
    assert "找不到工号为 9999 的会员" in capsys.readouterr().err
    assert members("invite", "3001") == 1
    assert "不是在册会员" in capsys.readouterr().err


# -- grant and revoke ---------------------------------------------------------


def roles_of(database: SessionFactory, employee_no: str) -> set[tuple[Role, str]]:
    with database() as session:
        return {(grant.role, unit.name) for grant, unit in grants_of(session, get(session, employee_no))}


def test_grant_and_revoke(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    capsys.readouterr()
    assert members("grant", "2101", "committee", "厂工会/一车间") == 0
    assert "已授予" in capsys.readouterr().out
    assert roles_of(database, "2101") == {(Role.COMMITTEE, "一车间")}

    assert members("revoke", "2101", "委员", "厂工会/一车间") == 0
    assert "已撤销" in capsys.readouterr().out
    assert roles_of(database, "2101") == set()
    assert members("revoke", "2101", "委员", "厂工会/一车间") == 0
    assert "无需撤销" in capsys.readouterr().out


def test_an_import_states_roles_and_prints_every_revocation(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(tmp_path, GOOD_ROWS)
    members("import", path)
    members("grant", "2101", "treasurer", "厂工会/一车间")
    capsys.readouterr()
    assert members("import", path) == 0
    out = capsys.readouterr().out
    assert f"已撤销 {HOSTILE_NAME}（工号 2101）在“厂工会/一车间”的会费收缴员角色。" in out
    assert "新增 0 人，更新 1 人，未变 2 人" in out
    assert roles_of(database, "2101") == set()


def test_keep_other_grants_keeps_a_role_granted_by_hand(
    members: Run, database: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = csv_file(tmp_path, GOOD_ROWS)
    members("import", path)
    members("grant", "2101", "treasurer", "厂工会/一车间")
    members("import", path, "--keep-other-grants")
    assert roles_of(database, "2101") == {(Role.TREASURER, "一车间")}
    monkeypatch.setenv("UNIONBOT_ROSTER_KEEP_OTHER_GRANTS", "true")
    members("import", path)
    assert roles_of(database, "2101") == {(Role.TREASURER, "一车间")}
    members("import", path, "--no-keep-other-grants")
    assert roles_of(database, "2101") == set()


def test_a_chair_moved_to_another_unit_keeps_no_chair_menu_there(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members(
        "import",
        csv_file(tmp_path, "3001,赵强,厂工会/一车间,,工会主席,,在册\n3002,钱多,厂工会/一车间,,工会主席,,\n"),
    )
    capsys.readouterr()
    moved = "3001,赵强,厂工会/二车间,,,,在册\n3002,钱多,厂工会/二车间,,主席,,\n"
    assert members("import", csv_file(tmp_path, moved), "--keep-other-grants") == 0
    out = capsys.readouterr().out
    assert "已撤销 赵强（工号 3001）在“厂工会/一车间”的工会主席角色。" in out
    assert "钱多（工号 3002）的工会主席角色随调动从“厂工会/一车间”转到“厂工会/二车间”。" in out
    assert roles_of(database, "3001") == set()
    assert roles_of(database, "3002") == {(Role.CHAIR, "二车间")}
    exported = tmp_path / "导出.csv"
    members("export", exported)
    assert [row.roles for row in read_roster(exported)] == ["", "工会主席"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("2101", "总经理", "厂工会"), "不认识的角色“总经理”"),
        (("2101", "chair", "厂工会/九车间"), "找不到单位“厂工会/九车间”"),
        (("9999", "chair", "厂工会"), "找不到工号为 9999 的会员"),
    ],
)
def test_grant_refuses_what_does_not_exist(
    members: Run,
    database: SessionFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    message: str,
) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    capsys.readouterr()
    assert members("grant", *argv) == 1
    assert message in capsys.readouterr().err
    assert roles_of(database, "2101") == set()


def test_grant_to_someone_who_left_is_refused(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members("import", csv_file(tmp_path, GOOD_ROWS))
    with database() as session:
        get(session, "2101").status = MemberStatus.LEFT
    capsys.readouterr()
    assert members("grant", "2101", "chair", "厂工会") == 1
    assert "不是在册会员" in capsys.readouterr().err


def big_file(tmp_path: Path, rows: int) -> Path:
    lines = "".join(
        f"{5000 + n},职工{n},厂工会/车间{n % 7}/班组{n % 3},138{n:08d},,20,在册\n" for n in range(rows)
    )
    return csv_file(tmp_path, lines, name="big.csv")


def test_a_large_import_prints_no_progress_bar_into_a_pipe(
    members: Run, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert members("import", big_file(tmp_path, 1500)) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.strip() == "导入完成：新增 1500 人，更新 0 人，未变 0 人；新建单位 29 个。"


def test_a_large_import_shows_progress_on_a_terminal(
    members: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats the captured stream as a terminal
    assert members("import", big_file(tmp_path, 1500)) == 0
    captured = capsys.readouterr()
    assert "正在导入" in captured.err
    assert "新增 1500 人" in captured.out


# -- control and format characters ------------------------------------------------

HIDDEN_ROWS = (
    "3001,赵强,厂工会/二车间\x01甲班\x1b[31m,,,,\n"
    "3002,\u202e王五,厂工会/二车间,,,,\n"
    "3003,孙丽,厂工会/一车间\u200b,,,,\n"
    "3004\u200b,周涛,厂工会,,,,\n"
    "3005,吴敏,厂工会,,职工代表\ufeff,,\n"
)


def test_an_import_refuses_hidden_characters_with_line_and_reason_and_writes_nothing(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert members("import", csv_file(tmp_path, GOOD_ROWS + HIDDEN_ROWS)) == 1
    err = capsys.readouterr().err
    assert "第 5 行：“单位”一栏有看不见的控制或格式字符（U+0001），请删除后再导入。" in err
    assert "第 6 行：“姓名”一栏有看不见的控制或格式字符（U+202E）" in err
    assert "第 7 行：“单位”一栏有看不见的控制或格式字符（U+200B）" in err
    assert "第 8 行：“工号”一栏有看不见的控制或格式字符（U+200B）" in err
    assert "第 9 行：“角色”一栏有看不见的控制或格式字符（U+FEFF）" in err
    assert "有 5 行数据有误，没有导入任何会员。" in err
    assert not any(ch in err for ch in "\x01\x1b\u202e\u200b\ufeff")
    assert count_members(database) == 0
    with database() as session:
        assert session.exec(select(sa.func.count()).select_from(Unit)).one() == 0


def test_spaces_around_cells_are_trimmed_alike_everywhere(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "\u3000１００１\t, 王建国 ,厂工会 / 一车间　,,,,\n"
    assert members("import", csv_file(tmp_path, body)) == 0
    with database() as session:
        member = get(session, "1001")
        assert member.name == "王建国"
    assert members("grant", " １００１ ", "委员", " 一车间\u3000") == 0
    assert roles_of(database, "1001") == {(Role.COMMITTEE, "一车间")}
    capsys.readouterr()
    assert members("grant", "1001", "委员", "一车间\u200b") == 1
    err = capsys.readouterr().err
    assert "单位名称“一车间<U+200B>”里有看不见的控制或格式字符（U+200B）" in err
    assert "\u200b" not in err


def _plant_hidden_rows(members: Run, database: SessionFactory) -> None:
    """Rows a database may hold from before imports refused hidden characters."""
    members("list")  # the schema, as any command makes it
    with database() as session:
        tree = UnitTree(session)
        unit = tree.ensure("厂工会")
        bad_unit = Unit(name="二车间\x01甲班\x1b[31m", parent_id=unit.id)
        session.add(bad_unit)
        session.flush()
        bad_unit.id_path = f"{unit.id_path}{bad_unit.id}/"
        assert bad_unit.id is not None
        assert unit.id is not None
        session.add(Member(employee_no="3001", name="赵\u202e强", unit_id=bad_unit.id, phone="13800001234"))
        session.add(Member(employee_no="3002", name="钱\x0b多", unit_id=unit.id))


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_never_dies_on_hidden_characters_already_in_the_database(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    _plant_hidden_rows(members, database)
    capsys.readouterr()
    exported = tmp_path / f"导出{suffix}"
    assert members("export", exported) == 0
    captured = capsys.readouterr()
    assert "已导出 2 名会员" in captured.out
    assert "有 2 名会员的资料里有看不见的字符" in captured.err
    assert "3002、3001" in captured.err  # the roster's order: 厂工会 before the unit below it
    rows = read_roster(exported)
    assert [row.unit for row in rows] == ["厂工会", "厂工会/二车间<U+0001>甲班<U+001B>[31m"]
    assert [row.name for row in rows] == ["钱<U+000B>多", "赵<U+202E>强"]
    # Imported back unchanged, the marks are refused: the admin corrects the cells first.
    assert members("import", exported) == 1
    err = capsys.readouterr().err
    assert "第 2 行：“姓名”一栏有看不见的控制或格式字符（U+000B）" in err
    assert "第 3 行：“单位”一栏有看不见的控制或格式字符（U+0001）" in err


def test_list_shows_hidden_characters_as_marks_never_raw(
    members: Run, database: SessionFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    _plant_hidden_rows(members, database)
    capsys.readouterr()
    assert members("list") == 0
    out = capsys.readouterr().out
    assert "二车间<U+0001>甲班<U+001B>[31m" in out
    assert "赵<U+202E>强" in out
    assert not any(ch in out for ch in "\x01\x1b\u202e\x0b")


# -- a long import and the chat ---------------------------------------------------


def test_members_are_served_while_a_large_import_runs(
    members: Run, database: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two chunks of a long import another connection writes: chat does not wait for the import.

    On SQLite (one writer at a time) that needs the chunks committed one by one; on
    PostgreSQL the import is one transaction and rows apart do not block each other.
    """
    members("import", csv_file(tmp_path, GOOD_ROWS))
    with database() as session:
        bind(session, get(session, "2101"), key="worker")
    chat = Chat(
        Bot(
            sessions=database,
            store=MemoryStore(),
            catalogues=Catalogues(),
            config=CoreConfig(dialog_timeout=timedelta(minutes=30)),
            registry=REGISTRY,
        ),
        key="worker",
    )
    between_chunks, served = threading.Event(), threading.Event()
    replies: list[str] = []

    @contextmanager
    def hook(description: str, total: int) -> Iterator[Callable[[int], None]]:
        def reached(done: int) -> None:
            if not between_chunks.is_set():
                between_chunks.set()
                served.wait(timeout=120)

        yield reached

    monkeypatch.setattr("bot.cli_members._progress", hook)
    path = big_file(tmp_path, 2000)
    outcome: list[int] = []
    importer = threading.Thread(target=lambda: outcome.append(members("import", path)))
    importer.start()
    try:
        assert between_chunks.wait(timeout=120)
        replies.append(chat.send("我的"))
    finally:
        served.set()
        importer.join(timeout=300)
    assert outcome == [0]
    assert "系统有点忙" not in replies[0]
    assert "2101" in replies[0]
    assert count_members(database) == 2003
    with database() as session:
        assert unfinished_import(session) is None


def test_an_import_cut_short_is_named_and_the_same_file_finishes_it(
    members: Run, database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(tmp_path, GOOD_ROWS)
    members("list")  # the schema
    rows, _problems = validate_rows(read_roster(path))
    with database() as session:
        session.add(
            RosterImportRun(
                digest=rows_digest(rows), label="花名册.csv", rows=3, done=0, started_at=datetime.now(UTC)
            )
        )
    capsys.readouterr()
    assert members("import", path) == 0
    assert (
        "上次导入 花名册.csv 在 0/3 行处中断；这次导入的是同一份名单，会把它做完。" in capsys.readouterr().err
    )
    with database() as session:
        assert unfinished_import(session) is None
