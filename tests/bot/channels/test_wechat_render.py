"""WeChat rendering: numbered choices in the member's language, parts under 2,048 bytes, safe XML."""

from __future__ import annotations

from pathlib import Path

import xmltodict
from wechatpy.replies import TextReply

from bot.channels.wechat.render import WECHAT_TEXT_LIMIT, ImageOut, TextOut, cdata_safe, render, xml_safe
from bot.file_links import FileLinks
from handlers.core.i18n import Catalogues
from handlers.core.messages import Button, OutgoingFile, Reply

CATALOGUES = Catalogues()


def texts(messages: list[TextOut | ImageOut]) -> list[str]:
    return [message.text for message in messages if isinstance(message, TextOut)]


def test_choices_are_numbered_lines_with_a_hint_in_the_replys_language() -> None:
    reply = Reply("请选择语言", buttons=(Button("简体中文", "d:lang:1"), Button("English", "d:lang:3")))
    [zh] = texts(render(reply, CATALOGUES.get("zh_CN")))
    assert zh == "请选择语言\n1. 简体中文\n2. English\n（回复数字选择）"
    [en] = texts(render(reply, CATALOGUES.get("en")))
    assert en.endswith("2. English\n(Reply with a number)")


def test_a_long_reply_is_cut_between_lines_under_the_byte_limit() -> None:
    lines = [f"第 {n} 行：" + "会员服务" * 30 for n in range(60)]
    parts = texts(render(Reply("\n".join(lines)), CATALOGUES.get("zh_CN")))
    assert len(parts) > 1
    assert all(len(part.encode()) <= WECHAT_TEXT_LIMIT for part in parts)
    assert "\n".join(parts) == "\n".join(lines)


def test_an_image_follows_the_text_and_a_file_is_explained() -> None:
    image = OutgoingFile("/tmp/chart.png", "chart.png", "image/png")
    sheet = OutgoingFile("/tmp/figures.xlsx", "建议统计.xlsx")
    messages = render(Reply("本月统计", image=image, file=sheet), CATALOGUES.get("zh_CN"))
    assert isinstance(messages[-1], ImageOut)
    assert messages[-1].path == "/tmp/chart.png"
    [text] = texts(messages)
    assert "本月统计" in text
    assert "文件“建议统计.xlsx”无法在微信里发送" in text


def test_an_export_becomes_a_download_link_when_members_can_reach_us(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "figures.xlsx").write_bytes(b"PK")
    sheet = OutgoingFile(str(exports / "figures.xlsx"), "建议统计.xlsx")
    links = FileLinks(key=b"k" * 32, folder=exports, public_url="https://union.example.org", minutes=30)
    [text] = texts(render(Reply("本月统计", file=sheet), CATALOGUES.get("zh_CN"), links, exports))
    assert "点击下载“建议统计.xlsx”（30 分钟内有效）：https://union.example.org/files/" in text
    assert "无法" not in text

    [unconfigured] = texts(render(Reply("本月统计", file=sheet), CATALOGUES.get("zh_CN"), None, exports))
    assert "文件“建议统计.xlsx”无法在微信里直接发送。请在 Telegram 上导出" in unconfigured
    assert "UNIONBOT_PUBLIC_URL" in unconfigured
    [english] = texts(render(Reply("Figures", file=sheet), CATALOGUES.get("en"), links, exports))
    assert "(valid for 30 minutes): https://union.example.org/files/" in english


def test_a_file_outside_the_exports_is_never_linked(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (tmp_path / "notice.pdf").write_bytes(b"%PDF")
    attachment = OutgoingFile(str(tmp_path / "notice.pdf"), "通知.pdf")
    links = FileLinks(key=b"k" * 32, folder=exports, public_url="https://union.example.org")
    [text] = texts(render(Reply("通知", file=attachment), CATALOGUES.get("zh_CN"), links, exports))
    assert "文件“通知.pdf”无法在微信里发送，请联系本单位工会领取。" in text
    assert "https://" not in text


def test_characters_xml_cannot_carry_are_shown_as_replacement_marks() -> None:
    assert xml_safe("a\x00b\x1fc\td\n") == "a\ufffdb\ufffdc\td\n"


def test_cdata_end_in_a_reply_survives_wechatpys_rendering() -> None:
    content = "甲]]>乙<b>&amp;</b>]]]>"
    xml = TextReply(source="gh_1", target="oMember", content=cdata_safe(content)).render()
    assert xmltodict.parse(xml)["xml"]["Content"] == content
