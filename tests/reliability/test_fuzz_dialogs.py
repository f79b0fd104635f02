"""The dialog engine and the router fed arbitrary Unicode, buttons and media, wherever a member may be.

Each example is a random walk: someone (not yet bound, a member, a cadre of one workshop, the
chair) opens a feature, then types hostile text, presses one of the buttons they were shown (or a
forged one), types a command word, sends a photo that never arrived or a voice message. Whatever
happens, every message is answered with words, never the incident apology; nothing is logged as an
error; and no record is left half-written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.core.i18n import Catalogues
from handlers.core.messages import Incoming, Media, MediaKind, Reply
from handlers.core.router import MENU_PAYLOAD_PREFIX, Bot
from handlers.modules import REGISTRY
from models.db import SessionFactory
from models.ephemeral import EphemeralStore
from tests.handlers.conftest import transcript
from tests.reliability.fuzzing import FUZZ, NASTY_TEXTS, any_text, examples
from tests.reliability.matrix_support import NOW, half_written, make_bot, seed_union

WALKERS = ("unbound", "member", "cadre_a", "chair")
FEATURES = sorted(REGISTRY.features)
WORDS = sorted({feature.words[0] for feature in REGISTRY.features.values() if feature.words})
INCIDENT = "出了点问题"


@pytest.fixture
def walked(db: SessionFactory, store: EphemeralStore) -> Iterator[Bot]:
    with time_machine.travel(NOW, tick=False):
        seed_union(db)
        yield make_bot(db, store, Catalogues())


def _answered(replies: list[Reply], sent: Incoming) -> None:
    seen = transcript(replies)
    assert replies, f"no answer to {sent!r}"
    assert replies[0].text.strip(), f"an empty first message answering {sent!r}: {seen!r}"
    assert INCIDENT not in seen, f"the incident apology answering {sent!r}:\n{seen}"


_actions = st.sampled_from(("text", "text", "text", "press", "forge", "word", "voice", "media", "back"))
# Drawn whole before the walk, so what is drawn never depends on what the bot answered (hypothesis
# replays a walk by its draws): a button is chosen by a number, modulo the buttons there are.
_steps = st.lists(
    st.tuples(
        _actions,
        st.integers(0, 63),
        any_text,
        st.sampled_from(MediaKind),
        st.booleans(),
        st.sampled_from(WORDS),
    ),
    min_size=1,
    max_size=10,
)


@pytest.mark.slow
def test_hostile_input_anywhere_is_answered_with_words_and_leaves_nothing_half_written(
    db: SessionFactory, walked: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = walked
    caplog.set_level(logging.ERROR)

    @settings(FUZZ, max_examples=examples(40))
    @given(who=st.sampled_from(WALKERS), opened=st.sampled_from(FEATURES), steps=_steps)
    def walk(who: str, opened: str, steps: list[tuple[str, int, str, MediaKind, bool, str]]) -> None:
        last: list[Reply] = []

        def send(incoming: Incoming) -> None:
            nonlocal last
            last = bot.handle(incoming)
            _answered(last, incoming)
            errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            assert not errors, f"logged as an error answering {incoming!r}: {errors}"

        send(Incoming("telegram", who, button=MENU_PAYLOAD_PREFIX + opened))
        for action, number, text, kind, fetched, word in steps:
            buttons = [button.payload for reply in last for button in reply.buttons]
            chosen = buttons[number % len(buttons)] if buttons else None
            if action == "press" and chosen is not None:
                send(Incoming("telegram", who, button=chosen))
            elif action == "forge":
                forged = (chosen or "d:x:y:").rsplit(":", 1)[0] + ":" + text
                send(Incoming("telegram", who, button=forged))
            elif action == "word":
                send(Incoming("telegram", who, text=word))
            elif action == "voice":
                send(Incoming("telegram", who, text=text or "嗯", spoken=True))  # as recognised speech
            elif action == "media":
                ref = "data/media/telegram/none.jpg" if fetched else ""
                send(Incoming("telegram", who, media=Media(kind, ref, "image/jpeg" if fetched else None)))
            elif action == "back":
                send(Incoming("telegram", who, text="返回"))
            else:
                send(Incoming("telegram", who, text=text))
        send(Incoming("telegram", who, text="取消"))
        with bot.sessions() as session:
            assert not half_written(session)

    walk()


def test_each_nasty_text_at_the_binding_prompt_at_the_menu_and_in_a_form_is_answered(walked: Bot) -> None:
    for text in NASTY_TEXTS:
        for who in ("unbound", "member"):
            incoming = Incoming("telegram", who, text=text)
            _answered(walked.handle(incoming), incoming)
        walked.handle(Incoming("telegram", "member", text="提建议"))
        walked.handle(Incoming("telegram", "member", text="1"))  # the first category
        for _step in range(3):  # the title, the measure and what follows, each given the same text
            incoming = Incoming("telegram", "member", text=text)
            _answered(walked.handle(incoming), incoming)
        walked.handle(Incoming("telegram", "member", text="取消"))
