"""``python -m bot digest show`` as the union office runs it, on a SQLite file of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from handlers.rankings.pushes import run_monthly
from models.db import SessionFactory, make_engine
from tests.handlers.rankings.conftest import CONFIG, DECEMBER_2, build_union


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SessionFactory]:
    """A fresh SQLite file, migrated, with the hand-worked union and its November digest."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNIONBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("UNIONBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'unionbot.db'}")
    monkeypatch.delenv("UNIONBOT_TIMEZONE", raising=False)
    monkeypatch.delenv("UNIONBOT_DEFAULT_LOCALE", raising=False)
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'unionbot.db'}")
    factory = SessionFactory(engine)
    with factory() as session:
        build_union(session)
    with factory() as session:
        run_monthly(CONFIG, session, now=DECEMBER_2)
    yield factory
    engine.dispose()


def test_show_prints_a_units_level_and_writes_its_chart(
    database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "x.png"
    code = main(["digest", "show", "2026-11", "--unit", "厂工会/二车间/丙班", "--output", str(output)])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "【排行榜】2026年11月",
        "1. 一车间/甲班　93.3 分，标杆，五星",
        "2. 二车间/丙班　40.9 分，不达标，二星",
        "3. 一车间/乙班　33.3 分，不达标，一星",
        "本单位未计入：建议采纳率（暂无数据），其权重已由其余各项按比例分摊。",
        f"图表已保存：{output}",
    ]
    assert output.read_bytes().startswith(b"\x89PNG")


def test_without_a_unit_the_first_level_is_shown(
    database: SessionFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "show", "2026年11月"]) == 0
    out = capsys.readouterr().out
    assert "1. 一车间　90.0 分，标杆，五星\n2. 二车间　47.7 分，不达标，二星" in out
    assert (tmp_path / "排行榜-2026-11.png").is_file()


@pytest.mark.parametrize(
    ("argv", "code", "said"),
    [
        (["digest", "show", "2026-10"], 1, "2026-10 还没有排名。"),
        (["digest", "show", "十一月"], 2, "请写月份或季度，例如 2026-11 或 2026-Q4。"),
        (["digest", "show", "2026-11", "--unit", "厂工会/三车间"], 1, "三车间"),
    ],
)
def test_a_period_or_unit_that_is_not_there_is_named(
    database: SessionFactory, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, said: str
) -> None:
    assert main(argv) == code
    assert said in capsys.readouterr().err
