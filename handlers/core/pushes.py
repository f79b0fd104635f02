"""Turning an outbox row into words, in the recipient's language, when it is sent.

Producers queue ids and codes (models.outbox), never text: a member who
switches to English before a scheduled notice goes out reads it in English,
and a notice corrected before its send time goes out corrected. Each feature
declares a renderer for each topic it owns in its module (handlers.core.module);
the delivery worker (bot/delivery) calls :meth:`PushRenderers.render` for every
row it sends and :meth:`PushRenderers.after_batch` once per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlmodel import Session

from handlers.core.i18n import Translator
from handlers.core.messages import Reply
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


@dataclass(frozen=True)
class PushRenderers:
    """Every module's renderers and after-batch hooks by topic, as the registry put them together."""

    renderers: Mapping[str, Renderer]
    hooks: Mapping[str, AfterBatch]

    def render(self, session: Session, row: PushRow, translator: Translator, zone: tzinfo) -> Push | None:
        """The push for ``row`` in ``translator``'s language, its times in ``zone``.

        Raises:
            LookupError: no renderer for the row's topic (a row queued by a feature since removed).
        """
        try:
            function = self.renderers[row.topic]
        except KeyError:
            raise LookupError(f"no renderer for the push topic {row.topic!r}") from None
        return function(session, row, translator, zone)

    def after_batch(self, session: Session, subjects: Mapping[str, Collection[int]], now: datetime) -> None:
        """Call each topic's after-batch hook with the subjects a batch touched."""
        for topic, ids in subjects.items():
            hook = self.hooks.get(topic)
            if hook is not None and ids:
                hook(session, ids, now)
