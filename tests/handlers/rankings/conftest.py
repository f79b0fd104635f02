"""A small union with a month of suggestions and activities whose ranking is worked out by hand.

厂工会 ─ 一车间 ─ 甲班 (张一, 张二; 张三 has left)
       │        └ 乙班 (李四)
       └ 二车间 ─ 丙班 (王五, 王六, 王七, 王八)
王主席 (chair of the union) and 刘委员 (committee of 一车间) sit in 厂工会 itself.

November 2026, Shanghai time. With anonymous suggestions counted for their own unit:

| unit   | per 100 | adoption | "三及时"   | activities |
|--------|---------|----------|-----------|------------|
| 甲班   | 100     | 50       | 2/3 = 66.7| 1/2 = 50   |
| 乙班   | 100     | 0        | 0/1 = 0   | 0          |
| 丙班   | 0       | no data  | 1/1 = 100 | 1/4 = 25   |
| 一车间 | 100     | 33.3     | 2/4 = 50  | 1/3 = 33.3 |
| 二车间 | 0       | no data  | 100       | 25         |
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from handlers.core.context import CoreConfig
from handlers.core.i18n import Catalogues
from handlers.core.router import Bot
from handlers.modules import REGISTRY
from models.activities import Activity, ActivitySignup, ActivityStatus, ActivityUnit, SignupStatus
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.members import Member, MemberStatus
from models.roles import Role
from models.suggestions import Award, Suggestion, SuggestionPolicy, SuggestionStatus
from models.units import Unit, UnitTree
from tests.factories import make_member
from tests.handlers.conftest import Chat

# The inputs the fixture's figures are worked out by hand for (dues and hardship have their own
# tests of their scores; here they would only be left out for want of data).
WORKED = ("suggestions_per_100", "adoption_rate", "answered_on_time", "activity_participation")
# Anonymous suggestions count for their own unit here: the fixture's units are all small.
CONFIG = CoreConfig(
    scores=tuple(score for score in REGISTRY.scores if score.id in WORKED),
    policies={SuggestionPolicy: SuggestionPolicy(anonymity_min_members=1)},
)


def at(day: int, month: int = 11) -> datetime:
    """10:00 in Shanghai on that day of 2026."""
    return datetime(2026, month, day, 2, 0, tzinfo=UTC)


@dataclass
class Union:
    members: dict[str, Member]
    units: dict[str, Unit]


def ident(row: Member | Unit | Activity) -> int:
    assert row.id is not None
    return row.id


def _suggestion(session: Session, member: Member, **fields: object) -> Suggestion:
    suggestion = Suggestion(
        proposer_id=ident(member),
        unit_id=member.unit_id,
        category="节能降耗",
        title="空压机余热回收",
        measure="把余热接到浴室。",
        **fields,  # type: ignore[arg-type]
    )
    session.add(suggestion)
    return suggestion


def build_union(session: Session) -> Union:
    people = [
        ("1001", "张一", "厂工会/一车间/甲班", ()),
        ("1002", "张二", "厂工会/一车间/甲班", ()),
        ("1003", "张三", "厂工会/一车间/甲班", ()),
        ("1004", "李四", "厂工会/一车间/乙班", ()),
        ("1005", "王五", "厂工会/二车间/丙班", ()),
        ("1006", "王六", "厂工会/二车间/丙班", ()),
        ("1007", "王七", "厂工会/二车间/丙班", ()),
        ("1008", "王八", "厂工会/二车间/丙班", ()),
        ("C0", "王主席", "厂工会", ((Role.CHAIR, "厂工会"),)),
        ("C1", "刘委员", "厂工会", ((Role.COMMITTEE, "厂工会/一车间"),)),
    ]
    members = {
        name: make_member(session, employee_no=number, name=name, unit=unit, roles=roles)
        for number, name, unit, roles in people
    }
    members["张三"].status = MemberStatus.LEFT
    tree = UnitTree(session)
    units = {
        path.rsplit("/", 1)[-1]: tree.ensure(path)
        for path in (
            "厂工会",
            "厂工会/一车间",
            "厂工会/二车间",
            "厂工会/一车间/甲班",
            "厂工会/一车间/乙班",
            "厂工会/二车间/丙班",
        )
    }
    one, four, five = members["张一"], members["李四"], members["王五"]
    # 甲班: adopted in time (registered and decided on time); a second one past its registration date.
    _suggestion(
        session,
        one,
        status=SuggestionStatus.ADOPTED,
        adopted=True,
        submitted_at=at(3),
        registered_at=at(4),
        decided_at=at(10),
        due_on=date(2026, 12, 22),
    )
    _suggestion(
        session, one, status=SuggestionStatus.SUBMITTED, submitted_at=at(5), due_on=date(2026, 11, 10)
    )
    # 乙班: anonymous, registered late (due 11 November).
    _suggestion(
        session,
        four,
        anonymous=True,
        status=SuggestionStatus.REGISTERED,
        submitted_at=at(6),
        registered_at=at(20),
        due_on=date(2026, 12, 11),
    )
    # 丙班: handed in in October, decided in time in November and given a 金点子; a duplicate merged.
    _suggestion(
        session,
        five,
        status=SuggestionStatus.ADOPTED,
        adopted=True,
        submitted_at=at(20, 10),
        registered_at=at(21, 10),
        decided_at=at(5),
        award=Award.GOLD,
        awarded_at=at(25),
        due_on=date(2026, 12, 30),
    )
    _suggestion(session, five, status=SuggestionStatus.MERGED, submitted_at=at(7))
    session.flush()
    chair = members["王主席"]
    held = Activity(
        organiser_id=ident(chair),
        title="登山",
        description="秋季登山",
        place="西山",
        starts_at=at(15),
        signup_deadline=at(13),
    )
    called_off = Activity(
        organiser_id=ident(chair),
        title="球赛",
        description="篮球",
        place="体育馆",
        starts_at=at(16),
        signup_deadline=at(14),
        status=ActivityStatus.CANCELLED,
    )
    session.add_all([held, called_off])
    session.flush()
    root_id = ident(units["厂工会"])
    session.add_all(
        [
            ActivityUnit(activity_id=ident(held), unit_id=root_id),
            ActivityUnit(activity_id=ident(called_off), unit_id=root_id),
            ActivitySignup(activity_id=ident(held), member_id=ident(one), signed_up_at=at(10)),
            ActivitySignup(
                activity_id=ident(held),
                member_id=ident(members["张二"]),
                signed_up_at=at(10),
                status=SignupStatus.CANCELLED,
            ),
            ActivitySignup(activity_id=ident(held), member_id=ident(five), signed_up_at=at(10)),
            ActivitySignup(activity_id=ident(called_off), member_id=ident(four), signed_up_at=at(10)),
        ]
    )
    session.flush()
    return Union(members=members, units=units)


@pytest.fixture
def union(session: Session) -> Union:
    return build_union(session)


# The monthly job's morning: 2 December 2026, 09:00 in Shanghai.
DECEMBER_2 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
ONE_DAY = timedelta(days=1)


@pytest.fixture
def ranking_bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, tmp_path: Path) -> Bot:
    """The bot with every registered score, as bot/app.py configures it."""
    config = replace(CONFIG, export_dir=tmp_path / "exports")
    return Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=REGISTRY)


def chat_as(bot: Bot, employee_no: str) -> Chat:
    """A chat bound to the member with that 工号 (every fixture phone ends in 1234)."""
    chat = Chat(bot, key=f"tg-{employee_no}")
    chat.send("/start")
    chat.send(employee_no)
    chat.send("1234", expect="绑定成功")
    return chat
