"""困难帮扶, 会费 and 月征集 as members ask for them, answered with whom to ask in person."""

from __future__ import annotations

from collections.abc import Callable

from handlers.core.context import Context
from handlers.core.features import Feature
from handlers.core.menu import show_menu
from handlers.core.messages import Reply
from models.contacts import union_chair_for
from models.errors import N_
from models.units import unit_path


def _contact(service: str) -> Callable[[Context, str], list[Reply]]:
    def run(ctx: Context, arg: str) -> list[Reply]:
        assert ctx.member is not None  # the router binds first
        chair = union_chair_for(ctx.session, ctx.member)
        if chair is None:
            text = ctx.t("“{service}”还没有开通线上办理，请直接联系本单位工会。")
            return show_menu(ctx, intro=[Reply(text.format(service=ctx.t(service)))])
        member, unit = chair
        text = ctx.t("“{service}”还没有开通线上办理，请直接联系{unit}工会主席{name}。").format(
            service=ctx.t(service), unit=unit_path(ctx.session, unit), name=member.name
        )
        return show_menu(ctx, intro=[Reply(text)])

    return run


def _service(name: str, label: str, words: tuple[str, ...], phrases: tuple[str, ...]) -> Feature:
    return Feature(
        name=name,
        label=label,
        summary=label,
        words=words,
        phrases=phrases,
        run=_contact(label),
        in_menu=False,
    )


SERVICES = (
    _service(
        "hardship_offline",
        N_("困难帮扶"),
        ("困难帮扶", "困難幫扶", "申请困难补助", "困难补助", "困难申报", "困难", "帮扶", "救助", "申请救助"),
        ("困难补助", "困難補助", "困难帮扶", "困難幫扶", "申请补助", "救助"),
    ),
    _service(
        "dues_offline",
        N_("会费缴纳"),
        ("会费", "會費", "交会费", "缴会费", "缴纳会费", "我的会费"),
        ("交会费", "缴会费", "缴纳会费", "会费交", "会费缴"),
    ),
    _service("collection_offline", N_("每月征集"), ("每月征集", "月征集", "征集"), ("征集",)),
)
