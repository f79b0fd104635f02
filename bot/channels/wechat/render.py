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
from pathlib import Path

from bot.channels.text_parts import split_text, utf8_bytes
from bot.file_links import FileLinks, relative_file
from handlers.core.i18n import Translator
from handlers.core.messages import OutgoingFile, Reply

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


def render(
    reply: Reply, t: Translator, links: FileLinks | None = None, export_dir: Path | None = None
) -> list[Outgoing]:
    """One neutral reply as WeChat messages, in order: text parts, then any image.

    A file cannot be sent to a WeChat chat (customer-service messages carry
    text, images, voice, video and articles only). With ``links`` (a public URL
    is configured) an export (a file in ``links.folder``) becomes a short-lived
    download link; otherwise the reader is told where else to get the file
    instead of receiving nothing.
    """
    text = reply.text
    if reply.buttons:
        choices = [f"{number}. {button.label}" for number, button in enumerate(reply.buttons, start=1)]
        text = "\n".join([text, *choices, t("（回复数字选择）")])
    if reply.file is not None:
        text += "\n\n" + _file_note(reply.file, t, links, export_dir)
    parts = split_text(xml_safe(text), WECHAT_TEXT_LIMIT, utf8_bytes)
    messages: list[Outgoing] = [TextOut(part) for part in parts]
    if reply.image is not None:
        messages.append(ImageOut(reply.image.path))
    return messages


def _file_note(file: OutgoingFile, t: Translator, links: FileLinks | None, export_dir: Path | None) -> str:
    """A download link for an export; otherwise where to get the file, said to whoever asks for it.

    An export is always a cadre's (建议统计): "ask your union" would send the
    union to itself, so they hear how they can have it instead.
    """
    url = links.url(file.path, file.name, file.mime_type) if links is not None else None
    if links is None or url is None:
        if export_dir is not None and relative_file(export_dir, file.path) is not None:
            note = t(
                "文件“{name}”无法在微信里直接发送。请在 Telegram 上导出，"
                "或请管理员设置 UNIONBOT_PUBLIC_URL，之后在微信里就能收到下载链接。"
            )
        else:
            note = t("文件“{name}”无法在微信里发送，请联系本单位工会领取。")
        return note.format(name=file.name)
    line = t.ngettext(
        "点击下载“{name}”（{minutes} 分钟内有效）：{url}",
        "点击下载“{name}”（{minutes} 分钟内有效）：{url}",
        links.minutes,
    )
    return line.format(name=file.name, minutes=links.minutes, url=url)


def xml_safe(text: str) -> str:
    """Text that can travel in XML: characters XML forbids become U+FFFD, visibly."""
    return _NOT_XML.sub("\ufffd", text)


def cdata_safe(text: str) -> str:
    """Text for a CDATA section: ``]]>`` would end it early (wechatpy does not split it), so split it.

    The member still reads ``]]>``: the XML reader joins the two sections.
    """
    return text.replace("]]>", "]]]]><![CDATA[>")
