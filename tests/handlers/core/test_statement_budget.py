"""A statement budget per everyday message, so what a message costs cannot creep back unseen.

Each SQL statement costs the core about half a millisecond of CPU on PostgreSQL. When every
feature's menu check read the member's roles again, the menu grew from 6 statements to 14 and
the WeChat webhook missed its latency goal (bench/RESULTS.md, "Statements per message"). Here
``Bot.handle`` is counted for the messages members and cadres send all day, on SQLite and (with
UNIONBOT_TEST_DATABASE_URL) on PostgreSQL; and the menu is counted again with many more
features asking whether to show themselves, which must cost nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from handlers.core.context import Context, CoreConfig
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues
from handlers.core.messages import Reply
from handlers.core.module import Module
from handlers.core.router import Bot
from handlers.modules import registry
from models.base import utcnow
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.roles import Permission, Role
from models.suggestions import SuggestionDraft, SuggestionPolicy, submit_suggestion
from tests.factories import bind, make_member
from tests.handlers.conftest import Chat

# The most statements Bot.handle may send for each message, on SQLite and on PostgreSQL alike
# (every statement but BEGIN: a savepoint is a round trip too). A change that needs more raises
# the number here, in the same commit, and its message says what the extra statement buys; a
# change that saves some lowers it, so the saving stays. A failure lists what each message ran.
# The counts before and after the per-message grants are in bench/RESULTS.md.
BUDGETS: dict[str, int] = {
    # who is writing, with their accounts, whether they hold a role and their open dialog; the menu
    # opened (an upsert, which also replaces a dialog closed in the same message)
    "menu (member)": 2,
    "menu (cadre holding every role)": 3,  # and the cadre's grants, read once for every check
    "a section of the menu (建议管理)": 3,  # the same: its entries are checked with the same grants
    "button press (我的信息 on the menu)": 5,  # and the member's unit, with its path, and the reminders off
    "dialog step (提建议: the category)": 2,  # who, the next step saved
    "/lang": 2,
    "/lang answered (the menu follows)": 4,  # and the language, on the account and the member
    "binding: first contact": 5,  # the account created in a savepoint: SAVEPOINT, INSERT, RELEASE
    "binding: 工号": 2,
    "binding: phone digits (bound, the menu follows)": 9,
    "建议办理: the queue's first page": 6,  # the grants, the page and the counts above it, each once
}

MENU_PROMPT = "请选择要办理的事项："


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The statements sent through ``engine`` meanwhile, but BEGIN (SQLite's; PostgreSQL's is implicit)."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def union(db: SessionFactory) -> None:
    """A member, a cadre holding every role on both channels, someone not yet bound, a suggestion."""
    with db() as session:
        member = make_member(session, employee_no="1001", name="李娜")
        bind(session, member, key="member")
        cadre = make_member(
            session, employee_no="2002", name="王主席", roles=[(role, "厂工会") for role in Role]
        )
        bind(session, cadre, key="cadre")
        bind(session, cadre, channel="wechat", key="cadre-wechat")
        make_member(session, employee_no="3003", name="赵强", phone="13800005678")
        draft = SuggestionDraft(
            category="节能降耗",
            title="空压机余热回收用于浴室",
            measure="把空压机的余热引到浴室的热水箱。",
            benefit="每年节约蒸汽费用",
            benefit_fen=12_000_000,
            anonymous=False,
            photos=(),
        )
        submit_suggestion(session, actor=member, draft=draft, policy=SuggestionPolicy(), now=utcnow())


def make_bot(db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, *extra: Module) -> Bot:
    config = CoreConfig()
    return Bot(sessions=db, store=store, catalogues=catalogues, config=config, registry=registry(*extra))


def everyday(bot: Bot, engine: sa.Engine) -> dict[str, list[str]]:
    """Each budgeted message sent once, from the state it is usually sent in: what each ran."""
    member, cadre, newcomer = (Chat(bot, key=key) for key in ("member", "cadre", "newcomer"))
    ran: dict[str, list[str]] = {}

    def count(name: str, send: Callable[[], str], expect: str) -> None:
        with statements(engine) as seen:
            shown = send()
        assert expect in shown, f"{name}: expected {expect!r} in:\n{shown}"
        ran[name] = seen

    count("menu (member)", lambda: member.send("菜单"), MENU_PROMPT)
    count("button press (我的信息 on the menu)", lambda: member.press("我的信息"), "工号：1001")
    member.send("提建议", expect="请选择建议类别")
    count("dialog step (提建议: the category)", lambda: member.send("1"), "请用一句话概括您的建议")
    member.send("取消", expect=MENU_PROMPT)
    count("/lang", lambda: member.send("/lang"), "Choose a language")
    count("/lang answered (the menu follows)", lambda: member.send("1"), MENU_PROMPT)

    count("menu (cadre holding every role)", lambda: cadre.send("菜单"), "建议管理")
    count("a section of the menu (建议管理)", lambda: cadre.send("建议管理"), "建议办理")
    count("建议办理: the queue's first page", lambda: cadre.send("建议办理"), "空压机余热回收用于浴室")

    count("binding: first contact", lambda: newcomer.send("你好"), "请输入您的工号")
    count("binding: 工号", lambda: newcomer.send("3003"), "手机号的后四位")
    count("binding: phone digits (bound, the menu follows)", lambda: newcomer.send("5678"), "绑定成功")
    return ran


def test_every_everyday_message_stays_within_its_statement_budget(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, union: None
) -> None:
    ran = everyday(make_bot(db, store, catalogues), db.engine)
    assert set(ran) == set(BUDGETS)
    over = {name: statements for name, statements in ran.items() if len(statements) > BUDGETS[name]}
    table = "\n".join(f"  {len(ran[name]):3d} / {budget:3d}  {name}" for name, budget in BUDGETS.items())
    details = "\n".join(
        f"{name}:\n" + "\n".join(f"    {statement[:160]}" for statement in statements)
        for name, statements in over.items()
    )
    assert not over, f"over budget (statements / budget):\n{table}\n{details}"


def _nothing(ctx: Context, arg: str) -> list[Reply]:
    return []


def _asks(permission: Permission) -> Callable[[Context], bool]:
    def available(ctx: Context) -> bool:
        return ctx.grants.holds(permission) or len(ctx.accounts) > 2

    return available


def crowd(count: int) -> Module:
    """``count`` throwaway features, each asking the member's grants and accounts whether to show."""
    permissions = list(Permission)
    return Module(
        name="crowd",
        features=tuple(
            Feature(
                name=f"crowd-{n}",
                label=f"额外事项 {n}",
                summary="",
                words=(),
                run=_nothing,
                rank=5000 + n,
                available=_asks(permissions[n % len(permissions)]),
            )
            for n in range(count)
        ),
    )


@pytest.mark.parametrize("key", ["member", "cadre"])
def test_the_menu_costs_the_same_however_many_features_ask(
    db: SessionFactory, store: EphemeralStore, catalogues: Catalogues, union: None, key: str
) -> None:
    counted: dict[int, int] = {}
    for extra in (0, 30):
        chat = Chat(make_bot(db, store, catalogues, *([crowd(extra)] if extra else [])), key=key)
        with statements(db.engine) as seen:
            chat.send("菜单", expect=MENU_PROMPT)
        counted[extra] = len(seen)
        # The cadre holds every permission, so every check ran and said yes; the member holds none.
        shown = [label for label in chat.menu() if label.startswith("额外事项")]  # in its section too
        assert len(shown) == (extra if key == "cadre" else 0)
    assert counted[30] == counted[0]
