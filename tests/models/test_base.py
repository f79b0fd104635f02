"""One rule for how long a text is: the forms, the models and the channels count characters alike."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from handlers.core.context import Context, CoreConfig
from handlers.core.dialogs import Ask, Flow
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues
from handlers.core.messages import Reply
from handlers.core.module import Module
from handlers.core.router import Bot
from handlers.modules import registry
from models.base import MAX_CLUSTER_CODE_POINTS, character_starts, utcnow, visible_length
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from models.errors import InvalidInput
from models.members import get_member_by_employee_no
from models.notices import TITLE_MAX, NoticeCategory, NoticeDraft, Target, TargetKind, check_notice
from models.roles import Role
from models.units import UnitTree
from tests.factories import make_member
from tests.handlers.conftest import Chat

FAMILY = "👨\u200d👩\u200d👧\u200d👦"
ENGLAND = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
KISS = "\U0001f469\U0001f3fb\u200d\u2764\ufe0f\u200d\U0001f48b\u200d\U0001f468\U0001f3fc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("工会", 2),
        ("e\u0301", 1),  # a letter and its combining accent
        ("我\u0301\u0323们", 2),
        ("👍🏽", 1),  # an emoji and its skin tone
        ("❤\ufe0f", 1),  # a variation selector
        ("1\ufe0f\u20e3", 1),  # a keycap
        (FAMILY, 1),  # a ZWJ sequence: the models used to count four
        (KISS, 1),  # the longest standard emoji, ten code points
        (ENGLAND, 1),  # a subdivision flag's tag letters
        ("🇨🇳", 1),  # a flag: the models used to count two
        ("🇨🇳🇭", 2),
        ("\u1100\u1161\u11a8", 1),  # Hangul jamo: the forms used to count three
        ("한국", 2),
        ("a\r\nb", 3),  # one line break
        ("a\u200cb", 2),  # a zero-width non-joiner joins the letter before it
        ("工\u200d会", 2),  # a joiner joins an emoji after it, not a Chinese character
        ("a\u200d b", 3),
        ("\n\u0301", 2),  # nothing joins a line break
        ("\ud83d\ude00", 1),  # a surrogate pair a lenient decoder left as two code points
        ("\u0301", 1),
        ("\u200d", 1),
    ],
)
def test_characters_are_counted_as_a_member_sees_them(text: str, expected: int) -> None:
    assert visible_length(text) == expected


def test_one_character_holds_at_most_ten_code_points() -> None:
    """Thousands of stacked accents or joined emoji must not count as one character."""
    zalgo = "a" + "\u0301" * 25
    assert list(character_starts(zalgo)) == [0, 10, 20]
    chain = "👨" + "\u200d👨" * 1000
    assert visible_length(chain) >= len(chain) // MAX_CLUSTER_CODE_POINTS


def test_each_character_begins_where_the_rule_says() -> None:
    text = f"工{FAMILY}e\u0301🇨🇳\r\n!"
    starts = list(character_starts(text))
    characters = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    assert characters == ["工", FAMILY, "e\u0301", "🇨🇳", "\r\n", "!"]


# -- the form and the model agree ----------------------------------------------------------------

SAVED: list[str] = []


def _save_as_notice(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """What a compose form does at its end: hand the title to the model, which checks it again."""
    assert ctx.member is not None
    check_notice(ctx.session, actor=ctx.member, draft=_draft(ctx.session, data["title"]), now=ctx.now)
    SAVED.append(data["title"])
    return [Reply("已保存")]


TITLE_FORM = Flow(
    name="length_title",
    steps=(Ask("title", "请输入标题：", max_length=TITLE_MAX),),  # as the notices' compose form asks
    on_done=_save_as_notice,
)
TITLE_FEATURE = Feature(
    name="length_title",
    label="标题测试",
    summary="测试",
    words=("/title",),
    run=lambda ctx, arg: ctx.dialogs.start(ctx, TITLE_FORM.name),
)


def _draft(session: Session, title: str) -> NoticeDraft:
    workshop = UnitTree(session).find("厂工会/一车间")
    assert workshop is not None
    assert workshop.id is not None
    target = Target(TargetKind.UNITS, (workshop.id,))
    return NoticeDraft(title=title, body="正文", category=NoticeCategory.NOTICE, target=target)


@pytest.fixture
def cadre_chat(db: SessionFactory, store: EphemeralStore) -> Chat:
    bot = Bot(
        sessions=db,
        store=store,
        catalogues=Catalogues(),
        config=CoreConfig(),
        registry=registry(Module(name="length", features=(TITLE_FEATURE,), flows=(TITLE_FORM,))),
    )
    with db() as session:
        make_member(session, roles=[(Role.CHAIR, "厂工会/一车间")])
        make_member(session, employee_no="1002", unit="厂工会/一车间/乙班")
    chat = Chat(bot)
    chat.send("/start")
    chat.send("1001")
    chat.send("1234", expect="绑定成功")
    SAVED.clear()
    return chat


TITLES = {
    "accents": ["工", "会", "e\u0301", "我\u0301\u0323"],
    "emoji": [FAMILY, "👍🏽", "🇨🇳", "1\ufe0f\u20e3", ENGLAND, KISS, "❤\ufe0f", "😀"],
    "mixed": ["职", "工", "之", "家", FAMILY, "é", "🇭🇰", "\u1100\u1161\u11a8", "한", "A"],
}


@pytest.mark.parametrize("kind", sorted(TITLES))
def test_the_form_accepts_exactly_the_titles_the_model_accepts(
    kind: str, cadre_chat: Chat, db: SessionFactory
) -> None:
    characters = TITLES[kind]
    fitting = "".join(characters[i % len(characters)] for i in range(TITLE_MAX))
    too_long = fitting + characters[0]
    assert len(fitting) > TITLE_MAX  # in code points, the model used to refuse some of these

    cadre_chat.send("/title", expect="请输入标题")
    cadre_chat.send(too_long, expect=[f"最多 {TITLE_MAX} 个字", f"您发了 {TITLE_MAX + 1} 个字"])
    cadre_chat.send(fitting, expect="已保存")
    assert [fitting] == SAVED

    with db() as session:
        actor = get_member_by_employee_no(session, "1001")
        with pytest.raises(InvalidInput) as refused:
            check_notice(session, actor=actor, draft=_draft(session, too_long), now=utcnow())
        assert refused.value.code == "notice.title_too_long"
        assert refused.value.params["count"] == TITLE_MAX + 1
