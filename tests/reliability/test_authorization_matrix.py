"""Who may use what: every feature, word, command and button payload × every kind of person.

The rows come from the registry (``handlers.modules.REGISTRY``), not from a list kept here, so a
feature added to any module must get its row in :data:`EXPECTED` before the suite passes again.
Each probe goes through the real router as a member would send it, and reads the answer: the
refusal sentence, or the feature.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import time_machine
from sqlmodel import select

from handlers.core import menu
from handlers.core.dialogs import step_payload
from handlers.core.i18n import Catalogues, Translator
from handlers.core.messages import Incoming, Reply
from handlers.core.router import CANCEL_WORDS, MENU_PAYLOAD_PREFIX, Bot
from handlers.modules import REGISTRY
from models.accounts import ChatAccount
from models.db import SessionFactory
from models.dialog_state import clear_dialog, load_dialog
from models.ephemeral import MemoryStore
from models.members import Member
from models.suggestions import SuggestionDraft, SuggestionPolicy, submit_suggestion
from tests.handlers.conftest import Chat, transcript
from tests.reliability.matrix_support import (
    BOUND_ROLES,
    CADRES,
    NOW,
    ROLES,
    domain_rows,
    make_bot,
    seed_union,
)

EVERYONE = frozenset(ROLES)
BOUND = BOUND_ROLES
CHAIRS = frozenset({"chair", "admin"})

EXPECTED: dict[str, frozenset[str]] = {
    # Anyone, bound or not: finding out what the bot is, choosing a language, binding.
    "help": EVERYONE,
    "lang": EVERYONE,
    "start": EVERYONE,
    # Every bound member.
    "me": BOUND,
    "menu": BOUND,
    "unbind": BOUND,
    "suggest": BOUND,
    "my_suggestions": BOUND,
    "notices": BOUND,
    "notice_read": BOUND,
    "factory_affairs": BOUND,
    "dues_use": BOUND,
    "activities": BOUND,
    "my_signups": BOUND,
    "section_services": BOUND,
    "section_settings": BOUND,
    "activity_check_in": BOUND,
    "ranking": BOUND,
    "collection": BOUND,
    "reminder": BOUND,
    "my_dues": BOUND,
    "hardship": BOUND,
    "my_hardship": BOUND,
    "hardship_publication_mine": BOUND,
    # Only someone bound on both channels has a choice of where pushes go.
    "push_channel": frozenset({"member"}),
    # Cadres who review suggestions, send notices and set out activities (not a treasurer alone).
    "notify": CADRES,
    "sent_notices": CADRES,
    "section_notices": CADRES,
    "organise_activity": CADRES,
    "managed_activities": CADRES,
    "section_activities": CADRES,
    "review_suggestions": CADRES,
    "suggestion_figures": CADRES,
    "section_suggestions": CADRES,
    "activity_figures": CADRES,
    # Hardship work: those who handle hardship (委员, 主席, 管理员); 公示 and the audit are the office's.
    "hardship_casework": CADRES,
    "hardship_report_for": CADRES,
    "hardship_campaigns": CADRES,
    "hardship_figures": CADRES,
    "section_hardship": CADRES,
    "hardship_publication": frozenset({"admin"}),
    "hardship_audit": frozenset({"admin"}),
    # Dues: who records them (收缴员, 主席, 管理员).
    "dues_record": frozenset({"treasurer", "chair", "admin"}),
    "dues_figures": frozenset({"treasurer", "chair", "admin"}),
    # 季度评比, and the quarter's ranking drafted and published, are the chair's call.
    "suggestion_appraisal": CHAIRS,
    "ranking_draft": CHAIRS,
    "ranking_publish": CHAIRS,
}
"""Feature name → the people who may use it; everyone else is refused with a sentence."""

UNBOUND_REFUSAL = "请先绑定会员身份，再使用这项功能。"
DEFAULT_REFUSAL = "抱歉，您没有使用这项功能的权限。"
STALE = "这个按钮已经失效了，请按下面的提示操作。"
INCIDENT = "出了点问题"
NOTHING_OPEN = "现在没有正在办理的事项。"


@pytest.fixture
def union(db: SessionFactory) -> Iterator[Bot]:
    """The matrix's people, at a fixed time; the store in memory (who may do what needs no Redis)."""
    with time_machine.travel(NOW, tick=False):
        seed_union(db)
        yield make_bot(db, MemoryStore(), Catalogues())


def _zh(bot: Bot) -> Translator:
    return bot.catalogues.get("zh_CN")


def _refusal(bot: Bot, name: str, role: str) -> str:
    if role == "unbound":
        return UNBOUND_REFUSAL
    return _zh(bot)(REGISTRY.features[name].unavailable or DEFAULT_REFUSAL)


def _clear_sentence(text: str) -> bool:
    """A whole sentence a member can read: ends as a sentence does, no placeholder or code left in it."""
    return (
        bool(text) and text[-1] in "。！？）" and "{" not in text and not re.search(r"[a-z]+\.[a-z_]+", text)
    )


def _probe(bot: Bot, role: str, incoming: Incoming) -> list[Reply]:
    replies = bot.handle(incoming)
    _close_dialog(bot.sessions, role)  # whatever opened, the next probe starts afresh
    return replies


def _close_dialog(db: SessionFactory, key: str) -> str | None:
    """Close the account's open dialog, as 取消 would, in one statement; the flow it was in."""
    with db() as session:
        account = session.exec(select(ChatAccount).where(ChatAccount.external_id == key)).first()
        if account is None or account.id is None:
            return None
        state = load_dialog(session, account.id)
        clear_dialog(session, account.id)
        return state.flow if state is not None else None


def _outcome(bot: Bot, name: str, role: str, replies: list[Reply]) -> str | None:
    """What went wrong with this answer, or None when it is as the table says."""
    seen = transcript(replies)
    if INCIDENT in seen or not seen.strip():
        return f"an incident or nothing at all: {seen!r}"
    refusal = _refusal(bot, name, role)
    refused = seen.startswith(refusal)
    allowed = role in EXPECTED[name]
    if allowed and refused:
        return "refused, but the table allows it"
    if not allowed and not refused:
        return f"allowed, but the table refuses it; answered {seen[:80]!r}"
    if refused and not _clear_sentence(refusal):
        return f"refused without a clear sentence: {refusal!r}"
    return None


def test_every_feature_has_a_row_in_the_table() -> None:
    missing = sorted(set(REGISTRY.features) - set(EXPECTED))
    stale = sorted(set(EXPECTED) - set(REGISTRY.features))
    lines = [
        f'feature {name!r} ({REGISTRY.features[name].label}) has no row: add "{name}": frozenset({{...}}),'
        " naming who of unbound, member, cadre_a, cadre_b, treasurer, chair, admin may use it, to"
        " EXPECTED in tests/reliability/test_authorization_matrix.py"
        for name in missing
    ]
    lines += [f"EXPECTED names {name!r}, which no module declares any more: remove its row" for name in stale]
    lines += [
        f"EXPECTED[{name!r}] names {sorted(who - EVERYONE)}, who are not in ROLES"
        for name, who in EXPECTED.items()
        if who - EVERYONE
    ]
    assert not lines, "\n".join(lines)


def test_every_feature_word_and_command_is_allowed_or_refused_as_the_table_says(
    db: SessionFactory, union: Bot
) -> None:
    bot = union
    wrong: list[str] = []
    for role in ROLES:
        for name, feature in REGISTRY.features.items():
            if name not in EXPECTED:
                continue  # reported by the test above
            pressed = Incoming("telegram", role, button=f"{MENU_PAYLOAD_PREFIX}{name}")
            if (problem := _outcome(bot, name, role, _probe(bot, role, pressed))) is not None:
                wrong.append(f"{role} pressing go:{name}: {problem}")
            for word in feature.words[:1]:
                typed = Incoming("telegram", role, text=word)
                if (problem := _outcome(bot, name, role, _probe(bot, role, typed))) is not None:
                    wrong.append(f"{role} typing {word!r} ({name}): {problem}")
        for command in REGISTRY.commands:
            typed = Incoming("telegram", role, text=f"/{command.name}")
            if f"/{command.name}" in CANCEL_WORDS:  # the router's own, the same for everyone
                if not transcript(bot.handle(typed)).startswith(NOTHING_OPEN):
                    wrong.append(f"{role} sending /{command.name}: not the router's cancel")
                continue
            name = REGISTRY.words[f"/{command.name}"].name
            if (
                name in EXPECTED
                and (problem := _outcome(bot, name, role, _probe(bot, role, typed))) is not None
            ):
                wrong.append(f"{role} sending /{command.name} ({name}): {problem}")
    assert not wrong, "\n".join(wrong)


def test_every_word_reaches_a_feature_of_the_table() -> None:
    """A word is a way into its feature: the feature's row decides, so none may lead elsewhere."""
    assert {feature.name for feature in REGISTRY.words.values()} <= set(EXPECTED)
    commands = {f"/{command.name}" for command in REGISTRY.commands} - CANCEL_WORDS
    assert {REGISTRY.words[command].name for command in commands} <= set(EXPECTED)


def test_a_forged_step_button_of_any_flow_opens_nothing_and_writes_nothing(
    db: SessionFactory, union: Bot
) -> None:
    """Every flow's first step, pressed by someone who never opened it: the payload is not a way in."""
    bot = union
    with db() as session:
        before = domain_rows(session)
    wrong: list[str] = []
    for role in ROLES:
        for flow in REGISTRY.flows:
            step = flow.steps[0]
            forged = Incoming("telegram", role, button=step_payload(flow.name, step.key, "1"))
            seen = transcript(bot.handle(forged))
            state = _close_dialog(db, role)
            if INCIDENT in seen:
                wrong.append(f"{role} forging {flow.name}: an incident: {seen!r}")
            elif role != "unbound" and not seen.startswith(STALE):
                wrong.append(f"{role} forging {flow.name}: not refused as a stale button: {seen[:80]!r}")
            elif state == flow.name and flow.name not in (menu.FLOW.name, "bind"):
                # The stale-button answer shows the menu, and the unbound the binding form: not a way in.
                wrong.append(f"{role} forging {flow.name}: the flow opened")
    with db() as session:
        assert domain_rows(session) == before
    assert not wrong, "\n".join(wrong)


def _suggestion_of(db: SessionFactory, employee_no: str, title: str) -> int:
    with db() as session:
        proposer = session.exec(select(Member).where(Member.employee_no == employee_no)).one()
        draft = SuggestionDraft(
            category="节能降耗",
            title=title,
            measure="把冷却水引到浴室预热，每班可省蒸汽。",
            benefit="每年节约蒸汽费用",
            benefit_fen=None,
            anonymous=False,
            photos=(),
        )
        suggestion = submit_suggestion(
            session, actor=proposer, draft=draft, policy=SuggestionPolicy(), now=NOW
        )
        assert suggestion.id is not None
        return suggestion.id


def test_a_cadre_sees_only_the_suggestions_of_their_subtree_and_cannot_forge_their_way_out(
    db: SessionFactory, union: Bot
) -> None:
    in_a = _suggestion_of(db, "1001", "一车间空压机余热回收")
    in_b = _suggestion_of(db, "2001", "二车间行车加装限位")
    cadre_a, cadre_b, chair = (Chat(union, key=key) for key in ("cadre_a", "cadre_b", "chair"))
    cadre_a.send("建议办理", expect="一车间空压机余热回收", absent=["二车间行车加装限位"])
    cadre_b.send("建议办理", expect="二车间行车加装限位", absent=["一车间空压机余热回收"])
    chair.send("建议办理", expect=["一车间空压机余热回收", "二车间行车加装限位"])

    # B's cadre presses a button naming A's suggestion, in their own open queue.
    own = [b.payload for r in cadre_b.last for b in r.buttons if b.payload.endswith(f":s:{in_b}")]
    assert own, transcript(cadre_b.last)
    forged = own[0].removesuffix(f":s:{in_b}") + f":s:{in_a}"
    seen = transcript(union.handle(Incoming("telegram", "cadre_b", button=forged)))
    assert seen.startswith(STALE), seen
    assert "一车间空压机余热回收" not in seen
    # …and with no queue open at all.
    cadre_b.send("取消")
    seen = transcript(union.handle(Incoming("telegram", "cadre_b", button=forged)))
    assert seen.startswith(STALE), seen
    assert "一车间空压机余热回收" not in seen
    # Figures: B's cadre is offered B's subtree only.
    cadre_b.send("建议统计", absent=["一车间"])
    cadre_b.send("取消")


def test_a_member_cannot_read_a_notice_meant_for_another_unit(db: SessionFactory, union: Bot) -> None:
    cadre_b = Chat(union, key="cadre_b")
    cadre_b.send("发通知")
    cadre_b.send("1")
    cadre_b.send("二车间检修安排")
    cadre_b.send("本周六二车间全天检修，请提前安排。")
    cadre_b.send("跳过")
    cadre_b.send("1")
    cadre_b.send("1")
    cadre_b.send("确认", expect="通知开始发给")
    from models.notices import Notice

    with db() as session:
        notice = session.exec(select(Notice).where(Notice.title == "二车间检修安排")).one()
    member = Chat(union, key="member")
    member.send("通知公告", absent=["二车间检修安排"])
    member.send("取消")
    seen = transcript(union.handle(Incoming("telegram", "member", button=f"go:notice_read:{notice.id}")))
    assert "二车间全天检修" not in seen
    assert _clear_sentence(seen.splitlines()[0]), seen
    # A's cadre cannot withdraw it either: it is not in their list of sent notices.
    Chat(union, key="cadre_a").send("我发的通知", absent=["二车间检修安排"])


def _forged(chat: Chat, own: str, other: str) -> str:
    """A button of ``chat``'s last answer whose payload names ``own``, made to name ``other``."""
    payloads = [b.payload for r in chat.last for b in r.buttons if b.payload.endswith(f":a:{own}")]
    assert payloads, transcript(chat.last)
    return payloads[0].removesuffix(f":a:{own}") + f":a:{other}"


def test_activities_stay_in_their_units_whoever_forges_a_button(db: SessionFactory, union: Bot) -> None:
    from models.activities import Activity
    from tests.handlers.workshop import organise_basketball

    cadre_a, cadre_b = Chat(union, key="cadre_a"), Chat(union, key="cadre_b")
    organise_basketball(cadre_a, "一车间篮球赛")
    organise_basketball(cadre_b, "二车间拔河赛")
    with db() as session:
        ids = {a.title: str(a.id) for a in session.exec(select(Activity))}
    in_a, in_b = ids["一车间篮球赛"], ids["二车间拔河赛"]

    cadre_b.send("活动报名", expect="二车间拔河赛", absent=["一车间篮球赛"])
    seen = transcript(union.handle(Incoming("telegram", "cadre_b", button=_forged(cadre_b, in_b, in_a))))
    assert seen.startswith(STALE), seen
    assert "一车间篮球赛" not in seen

    cadre_b.send("我发起的活动", expect="二车间拔河赛", absent=["一车间篮球赛"])
    seen = transcript(union.handle(Incoming("telegram", "cadre_b", button=_forged(cadre_b, in_b, in_a))))
    assert seen.startswith(STALE), seen
    assert "一车间篮球赛" not in seen
    Chat(union, key="member").send("活动报名", expect="一车间篮球赛", absent=["二车间拔河赛"])


@pytest.mark.parametrize("forged", ["2147483648", "99999999999999999999", "-1", "0", "１", "1e3", ""])
def test_a_push_s_button_with_a_forged_id_is_refused_as_stale(union: Bot, forged: str) -> None:
    """Regression: ``go:notice_read:2147483648`` (a client may send any payload) failed the query on
    PostgreSQL, whose ids stop at 2**31 - 1, and the member got the incident apology."""
    for role in ("member", "chair"):
        seen = transcript(union.handle(Incoming("telegram", role, button=f"go:notice_read:{forged}")))
        assert seen.startswith(STALE), seen
