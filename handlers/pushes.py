"""Turning an outbox row into words, in the recipient's language, when it is sent.

Producers queue ids and codes (models.outbox), never text: a member who
switches to English before a scheduled notice goes out reads it in English,
and a notice corrected before its send time goes out corrected. Each feature
registers a renderer for its topic; the delivery worker (bot/delivery) calls
:func:`render` for every row it sends and :func:`after_batch` once per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlmodel import Session

from handlers.i18n import Translator
from handlers.messages import Reply
from models.outbox import PushRow


@dataclass(frozen=True)
class Push:
    """One push, in one member's language.

    Attributes:
        title: a short headline: a WeChat template's title field, the first line elsewhere.
        reply: the whole message as a chat shows it (title and body, buttons, image, file).
        body: the text without the title, for a WeChat template's body field.
        unit: the sending union or unit, where a template has a field for it.
        url: where the full text can be read, where a template takes a link.
        edit_in_place: a progress message: on a channel that can edit what it sent
            (Telegram), the row's previous message is edited instead of a new one sent.
    """

    title: str
    reply: Reply
    body: str = ""
    unit: str | None = None
    url: str | None = None
    edit_in_place: bool = False


# None: there is nothing to send any more (the notice was withdrawn or deleted).
# The zone is the union's (settings): times in a push read as the union's clocks show them.
Renderer = Callable[[Session, PushRow, Translator, tzinfo], Push | None]
# Called once per worker batch with the subjects of the topic it touched, after their outcomes are committed.
AfterBatch = Callable[[Session, Collection[int], datetime], None]

_RENDERERS: dict[str, Renderer] = {}
_AFTER_BATCH: dict[str, AfterBatch] = {}


def renderer(topic: str) -> Callable[[Renderer], Renderer]:
    """Register the renderer of ``topic`` (at import of the feature's module)."""

    def register(function: Renderer) -> Renderer:
        if topic in _RENDERERS and _RENDERERS[topic] is not function:
            raise ValueError(f"two renderers for the push topic {topic!r}")
        _RENDERERS[topic] = function
        return function

    return register


def after_batch(topic: str) -> Callable[[AfterBatch], AfterBatch]:
    """Register what to do after a batch sent pushes of ``topic`` (a notice's progress report)."""

    def register(function: AfterBatch) -> AfterBatch:
        _AFTER_BATCH[topic] = function
        return function

    return register


def render(session: Session, row: PushRow, translator: Translator, zone: tzinfo) -> Push | None:
    """The push for ``row`` in ``translator``'s language, its times in ``zone``.

    Raises:
        LookupError: no renderer for the row's topic (a bug: the feature did not register).
    """
    try:
        function = _RENDERERS[row.topic]
    except KeyError:
        raise LookupError(f"no renderer for the push topic {row.topic!r}") from None
    return function(session, row, translator, zone)


def run_after_batch(session: Session, subjects: dict[str, set[int]], now: datetime) -> None:
    """Call each topic's after-batch hook with the subjects a batch touched."""
    for topic, ids in subjects.items():
        hook = _AFTER_BATCH.get(topic)
        if hook is not None and ids:
            hook(session, ids, now)
