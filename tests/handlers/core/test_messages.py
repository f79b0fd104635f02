"""Folding replies: fewer bubbles, nothing lost."""

from __future__ import annotations

from handlers.core.messages import Button, OutgoingFile, Reply, merge_replies


def test_text_only_replies_fold_into_the_prompt_that_follows() -> None:
    menu = Reply("请选择：", buttons=(Button("我的信息", "go:me"),))
    merged = merge_replies([Reply("好的，已切换。"), Reply("欢迎！"), menu])
    assert merged == [Reply("好的，已切换。\n\n欢迎！\n\n请选择：", buttons=menu.buttons)]


def test_trailing_text_and_attachments_are_kept() -> None:
    chart = OutgoingFile("/tmp/chart.png", "chart.png")
    replies = [Reply("图表如下"), Reply("本月会费", image=chart), Reply("谢谢"), Reply("再见")]
    assert merge_replies(replies) == [Reply("图表如下\n\n本月会费", image=chart), Reply("谢谢\n\n再见")]


def test_nothing_in_nothing_out() -> None:
    assert merge_replies([]) == []
