"""The neutral message model: what every channel turns its traffic into and out of.

A handler sees an :class:`Incoming` and returns :class:`Reply` objects. It never
learns whether the member is on Telegram, WeChat or the console; the channel
adapter renders buttons as an inline keyboard, numbered lines or whatever it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum


class MediaKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"


@dataclass(frozen=True)
class Media:
    """A file the member sent; ``ref`` is the channel's handle for fetching it, empty when the
    channel could not get the file (the core then asks for it again)."""

    kind: MediaKind
    ref: str
    mime_type: str | None = None
    size: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One message from one chat account.

    Attributes:
        channel: "telegram", "wechat" or "console".
        account_key: the channel's stable id for the person (Telegram user id, WeChat openid).
        text: what they typed, verbatim.
        button: the payload of a pressed button, when they pressed one.
        media: a photo or file they sent.
        locale: the language their client reports, a hint for people not yet bound.
        spoken: ``text`` is what the channel recognised in a voice message, not what
            they typed; a form shows it back before taking it as an answer.
    """

    channel: str
    account_key: str
    text: str | None = None
    button: str | None = None
    media: Media | None = None
    locale: str | None = None
    spoken: bool = False


@dataclass(frozen=True)
class Button:
    """A choice. ``payload`` comes back in :attr:`Incoming.button` when pressed."""

    label: str
    payload: str


@dataclass(frozen=True)
class OutgoingFile:
    """A file to send: a path on disk, with the name the member will see."""

    path: str
    name: str
    mime_type: str | None = None


@dataclass(frozen=True)
class Reply:
    """One message back. Texts are already translated; buttons are choices in order.

    ``locale`` is the language the texts are in, set by the core, so a channel
    can add words of its own in the same language ("回复数字选择" under numbered choices).
    """

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    image: OutgoingFile | None = None
    file: OutgoingFile | None = None
    locale: str | None = None


def merge_replies(replies: Sequence[Reply]) -> list[Reply]:
    """Fold each text-only reply into the one after it: one message instead of several.

    "好的，已切换" followed by the menu reads better as one bubble, costs one
    send instead of two, and WeChat's passive reply can carry only one message.
    """
    merged: list[Reply] = []
    pending: list[str] = []
    for reply in replies:
        if not reply.buttons and reply.image is None and reply.file is None:
            pending.append(reply.text)
            continue
        merged.append(replace(reply, text="\n\n".join([*pending, reply.text])))
        pending = []
    if pending:
        merged.append(Reply("\n\n".join(pending), locale=replies[-1].locale))
    return merged
