"""Turning neutral replies into what a WeChat chat can show: text, numbered choices, images.

WeChat text carries no buttons, so choices become numbered lines and the
member answers with the number, a full-width digit or the option's words
(the dialog engine understands all three). A text message holds at most
2,048 bytes of UTF-8, about 680 Chinese characters; longer replies are cut
where a reader would cut them (``bot/channels/text_parts.py``).

Pure functions, tested without WeChat; nothing here imports wechatpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.channels.text_parts import split_text, utf8_bytes
from handlers.i18n import Translator
from handlers.messages import Reply

WECHAT_TEXT_LIMIT = 2048
"""Bytes of UTF-8 in one text message, passive reply or customer-service message."""

# Characters XML 1.0 cannot carry at all; one would make WeChat drop the whole reply.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class TextOut:
    text: str


@dataclass(frozen=True)
class ImageOut:
    path: str


Outgoing = TextOut | ImageOut


def render(reply: Reply, t: Translator) -> list[Outgoing]:
    """One neutral reply as WeChat messages, in order: text parts, then any image.

    A file cannot be sent to a WeChat chat (customer-service messages carry
    text, images, voice, video and articles only), so the member is told where
    to get it instead of receiving nothing.
    """
    text = reply.text
    if reply.buttons:
        choices = [f"{number}. {button.label}" for number, button in enumerate(reply.buttons, start=1)]
        text = "\n".join([text, *choices, t("（回复数字选择）")])
    if reply.file is not None:
        note = t("文件“{name}”无法在微信里发送，请联系本单位工会领取。")
        text += "\n\n" + note.format(name=reply.file.name)
    parts = split_text(xml_safe(text), WECHAT_TEXT_LIMIT, utf8_bytes)
    messages: list[Outgoing] = [TextOut(part) for part in parts]
    if reply.image is not None:
        messages.append(ImageOut(reply.image.path))
    return messages


def xml_safe(text: str) -> str:
    """Text that can travel in XML: characters XML forbids become U+FFFD, visibly."""
    return _NOT_XML.sub("\ufffd", text)


def cdata_safe(text: str) -> str:
    """Text for a CDATA section: ``]]>`` would end it early (wechatpy does not split it), so split it.

    The member still reads ``]]>``: the XML reader joins the two sections.
    """
    return text.replace("]]>", "]]]]><![CDATA[>")
