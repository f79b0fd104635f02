"""The router: one message in, replies out, whatever the channel.

Order of precedence for a message:

1. a pressed menu button (``go:<feature>``) or 取消 — always honoured;
2. a slash command — closes any open form first;
3. the open dialog's next step; a command word typed in a form is handed to it
   with the answer, so the engine can ask whether it was meant as the answer
   (at a free-text step) or open the feature (anywhere else);
4. a command word (我的, 菜单, 帮助…);
5. for someone not yet bound: the binding form; otherwise "not understood" and the menu.

It is also the one boundary for errors: a domain error becomes its sentence,
a passing fault (database or Redis unreachable) becomes "try again later",
and anything else is logged with an incident number the member can quote.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import redis
import sqlalchemy as sa
from sqlmodel import Session

from handlers.core import menu
from handlers.core.context import Context, CoreConfig
from handlers.core.dialogs import PAYLOAD_PREFIX, DialogEngine, said_word
from handlers.core.features import Feature
from handlers.core.i18n import Catalogues, Translator, negotiate_locale
from handlers.core.messages import Incoming, MediaKind, Reply
from handlers.core.module import Registry
from handlers.core.parsing import normalise, parse_index
from models.accounts import identify
from models.base import utcnow
from models.db import SessionFactory
from models.dialog_state import DialogState, clear_dialog
from models.ephemeral import EphemeralStore
from models.errors import N_, DomainError

log = logging.getLogger(__name__)

CANCEL_WORDS = frozenset({"取消", "/cancel", "cancel", "退出", "算了", "不办了"})
HELP_WORDS = frozenset({"帮助", "幫助", "help", "?", "？"})
MENU_PAYLOAD_PREFIX = "go:"

# Faults that pass: the member should simply try again in a moment.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.TimeoutError,
    sa.exc.DisconnectionError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def _cancelling(text: str | None) -> bool:
    """取消 as members type it: "取消。", "算了！", or Telegram's /cancel@BotName in a group."""
    if text is None:
        return False
    said = said_word(text)
    if said.startswith("/"):
        said = said.split("@", 1)[0]
    return said in CANCEL_WORDS


# "活动 12", "活动12": a word and a number, for features that open one of their things by it.
_WORD_AND_NUMBER = re.compile(r"(\D+?)\s*(\d{1,9})")


def _without_parameters(error: BaseException) -> None:
    """Leave the values out of every SQL statement in ``error``'s chain before it is logged.

    SQLAlchemy prints a failed statement with its parameters, and those are what members
    typed: the 工号 at binding and every answer of a form, which the dialog keeps in
    ``dialog_state`` after each step. The statement itself stays, to tell what failed.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.exc.StatementError):
            current.hide_parameters = True
        current = current.__cause__ or current.__context__


class Bot:
    """The conversation core. Channels call :meth:`handle` for every message."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        store: EphemeralStore,
        catalogues: Catalogues,
        config: CoreConfig,
        registry: Registry,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.catalogues = catalogues
        self.config = config
        self.clock = clock
        self.registry = registry
        self.features = registry.features
        self.words = registry.words
        self.dialogs = DialogEngine(
            registry.flows, after_cancel=self._after_cancel, open_feature=self._open_from_form
        )
        self._labels_by_locale: dict[str, dict[str, Feature]] = {}

    def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message. Never raises: every failure becomes a reply.

        Every reply says which language it is in, so a channel can add its own words in it.
        """
        _ = self.catalogues.get(negotiate_locale(incoming.locale, self.config.default_locale))
        try:
            with self.sessions() as session:
                ctx = self._context(session, incoming)
                _ = ctx.t
                try:
                    replies = self._route(ctx)
                    self.dialogs.settle(ctx)
                    _ = ctx.t  # the member may just have chosen another language
                except DomainError as error:
                    # Undo the half-done change: the whole transaction rather than a
                    # savepoint around every message (measured: a savepoint costs more
                    # than the rest of a message on PostgreSQL, bench/RESULTS.md). Then,
                    # in a fresh transaction, note the visit again; a broken rule also
                    # ends any open form.
                    t = ctx.t
                    session.rollback()
                    ctx = self._context(session, incoming)
                    clear_dialog(session, ctx.account_id)
                    replies = [Reply(t.error(error))]
                    _ = t
        except TRANSIENT_ERRORS as error:
            _without_parameters(error)
            log.warning("transient failure for %s:%s", incoming.channel, incoming.account_key, exc_info=True)
            replies = [Reply(_("系统有点忙，请稍后再试。"))]
        except Exception as error:
            _without_parameters(error)
            incident = secrets.token_hex(4)
            log.exception("incident %s for %s:%s", incident, incoming.channel, incoming.account_key)
            text = _("抱歉，出了点问题（编号 {incident}）。请稍后再试，或联系本单位工会。")
            replies = [Reply(text.format(incident=incident))]
        return [replace(reply, locale=_.locale) for reply in replies]

    def _context(self, session: Session, incoming: Incoming) -> Context:
        now = self.clock()
        account, member = identify(
            session, channel=incoming.channel, external_id=incoming.account_key, now=now
        )
        session.flush()
        locale = (
            (member.locale if member else None)
            or account.locale
            or negotiate_locale(incoming.locale, self.config.default_locale)
        )
        return Context(
            session=session,
            store=self.store,
            config=self.config,
            catalogues=self.catalogues,
            incoming=incoming,
            account=account,
            member=member,
            t=self.catalogues.get(locale),
            now=now,
            dialogs=self.dialogs,
            features=self.features,
            reminders=self.registry.reminders,
        )

    def _command(self, ctx: Context, text: str | None) -> tuple[Feature | None, str, bool]:
        """The feature a text asks for, the words after it, and whether it was a slash command.

        Besides its command words, a feature answers to its menu label in the
        member's own language ("My profile").
        """
        if text is None:
            return None, "", False
        stripped = text.strip()
        if stripped.startswith("/"):
            head, _, rest = stripped.partition(" ")
            head = normalise(head.split("@", 1)[0])  # Telegram groups send /start@BotName
            rest = rest.strip()
            if head == "/start" and rest:
                # A deep link (t.me/<bot>?start=act_12) opens the feature that declared its prefix.
                prefix, underscore, argument = rest.partition("_")
                linked = self.registry.links.get(prefix) if underscore else None
                if linked is not None:
                    return linked, argument, True
            return self.words.get(head), rest, True
        said = normalise(stripped)
        feature = self.words.get(said)
        if feature is None:
            feature = self._labels(ctx.t).get(said)
        if feature is None:
            numbered = _WORD_AND_NUMBER.fullmatch(said)
            if numbered is not None:
                feature = self.words.get(numbered[1].strip())
                if feature is not None and feature.numbered:
                    return feature, numbered[2], False
                feature = None
        return feature, "", False

    def _labels(self, t: Translator) -> dict[str, Feature]:
        """The features by their menu label in one language, folded once per language."""
        labels = self._labels_by_locale.get(t.locale)
        if labels is None:
            labels = {}
            for feature in self.features.values():
                labels.setdefault(normalise(t(feature.label)), feature)  # the first one wins, as before
            self._labels_by_locale[t.locale] = labels
        return labels

    def _route(self, ctx: Context) -> list[Reply]:
        incoming = ctx.incoming
        state, expired = self.dialogs.open(ctx)
        notice: list[Reply] = []
        if expired:
            minutes = int(ctx.config.dialog_timeout.total_seconds() // 60)
            notice.append(
                Reply(ctx.t("您上次的操作超过 {minutes} 分钟没有回复，已自动取消。").format(minutes=minutes))
            )

        if incoming.button and incoming.button.startswith(MENU_PAYLOAD_PREFIX):
            # go:<feature> or go:<feature>:<argument> (a button on a push: 已阅 on notice 42).
            name, _sep, argument = incoming.button.removeprefix(MENU_PAYLOAD_PREFIX).partition(":")
            feature = self.features.get(name)
            if feature is not None and feature.background and ctx.member is not None:
                # A tap on an earlier message must not throw away the form the member is filling in.
                replies = self._run(ctx, feature, argument)
                if state is not None and not self._is_list(state):
                    replies = [*replies, *self.dialogs.reprompt(ctx, state)]
                return [*notice, *replies]
            if state is not None:
                self.dialogs.close(ctx)
            if feature is None:
                return [*notice, *self._stale(ctx)]
            return [*notice, *self._run(ctx, feature, argument)]

        if incoming.media is not None and not incoming.media.ref:
            # A file the channel could not fetch (WeChat keeps a member's photo three days only).
            return [*notice, *self._ask_again(ctx, state, ctx.t("抱歉，照片没能收到，请再发一次。"))]
        if incoming.text is None and incoming.media is not None and incoming.media.kind is MediaKind.VOICE:
            unheard = ctx.t("抱歉，这条语音没能识别成文字。请打字回复，谢谢。")
            return [*notice, *self._ask_again(ctx, state, unheard)]

        word = normalise(incoming.text) if incoming.text is not None else ""
        if _cancelling(incoming.text):
            return [*notice, *self._cancel(ctx, state)]

        feature, arg, slash = self._command(ctx, incoming.text)
        if (
            state is not None
            and state.flow == menu.FLOW.name
            and incoming.button is None
            and parse_index(incoming.text or "") is None
        ):
            # Free text at the menu is a new request, not a wrong menu answer.
            self.dialogs.close(ctx)
            state = None
        if state is not None:
            # A list to pick from (the menu, the notices) gives way to a command word; a form does not.
            in_menu = self._is_list(state)
            if feature is not None and (slash or in_menu):
                self.dialogs.close(ctx)
                return self._run(ctx, feature, arg)
            if slash and in_menu:
                return self._not_understood(ctx)
            if word in HELP_WORDS:
                hint = Reply(
                    ctx.t("您正在办理一项事务。请按提示回复；回复“返回”回到上一步，回复“取消”退出。")
                )
                return [hint, *self.dialogs.reprompt(ctx, state)]
            # A command word in a form: the engine asks whether it is the answer, or opens the feature.
            command = feature.name if feature is not None and self._usable(ctx, feature) else None
            return self.dialogs.handle(ctx, state, command=command)

        if feature is not None:
            return [*notice, *self._run(ctx, feature, arg)]
        if ctx.member is None:
            # After an expired form, the text was meant for the old question: just ask again.
            answer = None if expired else incoming.text
            return [*notice, *self.registry.unbound(ctx, None, answer)]
        if incoming.button and incoming.button.startswith(PAYLOAD_PREFIX + ":"):
            return [*notice, *self._stale(ctx)]
        asked = self._asked_in_a_sentence(word)
        if asked is not None:
            return [*notice, *self._run(ctx, asked, "")]
        return [*notice, *self._not_understood(ctx)]

    def _asked_in_a_sentence(self, said: str) -> Feature | None:
        """The feature a sentence asks for ("我家里老人住院了，想申请困难补助"), by its longest phrase."""
        for phrase, feature in self.registry.phrases:
            if phrase in said:
                return feature
        return None

    def _is_list(self, state: DialogState) -> bool:
        """Whether the open dialog is a list to pick from (the menu, a browse flow) rather than a form."""
        return state.flow == menu.FLOW.name or self.dialogs.flows[state.flow].browse

    def _ask_again(self, ctx: Context, state: DialogState | None, apology: str) -> list[Reply]:
        """A voice message with no recognised text, a photo that did not arrive: say so, and
        repeat the open question (or the menu, or the welcome) so the member knows where they are."""
        sorry = Reply(apology)
        if state is not None:
            return [sorry, *self.dialogs.reprompt(ctx, state)]
        if ctx.member is None:
            return self.registry.unbound(ctx, [sorry], None)
        return menu.show_menu(ctx, intro=[sorry])

    def _not_understood(self, ctx: Context) -> list[Reply]:
        return menu.show_menu(
            ctx, intro=[Reply(ctx.t("抱歉，没看懂您的意思。您可以从下面选择要办理的事项："))]
        )

    def _after_cancel(self, ctx: Context, replies: list[Reply]) -> list[Reply]:
        if ctx.member is None:
            return replies
        return menu.show_menu(ctx, intro=replies)

    def _usable(self, ctx: Context, feature: Feature) -> bool:
        """Whether ``feature`` would open for this person, so its word typed in a form means it."""
        if ctx.member is None:
            return feature.for_unbound
        return feature.available(ctx)

    def _open_from_form(self, ctx: Context, name: str) -> list[Reply]:
        return self._run(ctx, self.features[name], "")

    def _run(self, ctx: Context, feature: Feature, arg: str) -> list[Reply]:
        if ctx.member is None and not feature.for_unbound:
            return self.registry.unbound(ctx, [Reply(ctx.t("请先绑定会员身份，再使用这项功能。"))], None)
        if ctx.member is not None and not feature.available(ctx):
            refusal = feature.unavailable or N_("抱歉，您没有使用这项功能的权限。")
            return menu.show_menu(ctx, intro=[Reply(ctx.t(refusal))])
        return feature.run(ctx, arg)

    def _cancel(self, ctx: Context, state: DialogState | None) -> list[Reply]:
        if state is None or state.flow == menu.FLOW.name:
            if state is not None:
                self.dialogs.close(ctx)
            return [Reply(ctx.t("现在没有正在办理的事项。需要时回复“菜单”。"))]
        return self.dialogs.cancel(ctx, state)

    def _stale(self, ctx: Context) -> list[Reply]:
        intro = [Reply(ctx.t("这个按钮已经失效了，请按下面的提示操作。"))]
        if ctx.member is None:
            return self.registry.unbound(ctx, intro, None)
        return menu.show_menu(ctx, intro=intro)
