"""``python -m bot activities draw ID --verify`` and ``activities priority ID FILE`` in use."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from bot.app import App
from bot.cli import main
from models.activities import ActivityPriority, ActivitySignup, Allocation, create_activity, sign_up
from models.activities.lottery import run_draws
from models.base import utcnow
from models.members import Member
from models.roles import Role
from models.units import UnitTree
from tests.bot.test_cli_outbox import app  # noqa: F401  (the fixture: the CLI on its own database)
from tests.factories import make_member
from tests.models.test_activities import draft


def test_a_draw_is_verified_from_its_seed_and_a_tampered_one_is_caught(
    app: App,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "zh_CN")
    now = utcnow()
    with app.sessions() as session:
        chair = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
        for number in range(1, 6):
            make_member(session, employee_no=f"{1000 + number}", phone=None)
        fields = {
            "capacity": 2,
            "allocation": Allocation.LOTTERY,
            "starts_at": now + timedelta(days=5),
            "signup_deadline": now + timedelta(days=3),
        }
        activity = create_activity(session, actor=chair, draft=draft(session, **fields), now=now)
        activity_id = activity.id
        assert activity_id is not None
        for member in session.exec(select(Member).where(Member.employee_no != "C1")).all():
            sign_up(session, actor=member, activity_id=activity_id, now=now)
    assert main(["activities", "draw", str(activity_id), "--verify"]) == 1
    assert "这个活动还没有抽签" in capsys.readouterr().out
    with app.sessions() as session:
        run_draws(session, now=now + timedelta(days=3))
    assert main(["activities", "draw", str(activity_id), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "参加抽签：5 人" in out
    assert "与记录的抽签结果一致" in out
    with app.sessions() as session:
        first, second = session.exec(
            select(ActivitySignup)
            .where(col(ActivitySignup.draw_rank) <= 2)
            .order_by(col(ActivitySignup.draw_rank))
        ).all()
        first.draw_rank, second.draw_rank = 2, 1
        session.add_all([first, second])
    assert main(["activities", "draw", str(activity_id), "--verify"]) == 1
    assert "不一致" in capsys.readouterr().out


def test_a_priority_list_is_imported_whole_or_not_at_all(
    app: App,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("UNIONBOT_DEFAULT_LOCALE", "zh_CN")
    now = utcnow()
    with app.sessions() as session:
        chair = make_member(session, employee_no="C1", roles=[(Role.CHAIR, "厂工会/一车间")])
        make_member(session, employee_no="1001", phone=None)
        make_member(session, employee_no="1002", phone=None)
        fields = {"starts_at": now + timedelta(days=5), "signup_deadline": now + timedelta(days=3)}
        activity = create_activity(session, actor=chair, draft=draft(session, **fields), now=now)
        activity_id = activity.id
        assert UnitTree(session).find("厂工会/一车间") is not None
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "工号"])
    sheet.append(["甲", "1001"])
    sheet.append(["乙", "9999"])
    bad = tmp_path / "劳模名单.xlsx"
    book.save(bad)
    assert main(["activities", "priority", str(activity_id), str(bad)]) == 1
    assert "工号 9999 不是在册会员，名单没有导入" in capsys.readouterr().out
    good = tmp_path / "劳模名单.csv"
    good.write_text("工号\n1001\n１００２\n", encoding="gbk")
    assert main(["activities", "priority", str(activity_id), str(good)]) == 0
    assert "已导入优先名单：2 人" in capsys.readouterr().out
    with app.sessions() as session:
        assert len(session.exec(select(ActivityPriority)).all()) == 2
