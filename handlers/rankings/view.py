"""排行榜 in the chat: the latest digest on demand, and a quarter's draft for the chair to publish.

A member sees where their own unit stands at its level; a cadre also sees the table of
their subtree's level. Whoever may publish a quarter's ranking (the union's chair or
admin) finds the waiting draft here, reads it exactly as members will, and publishes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from handlers.core.context import Context
from handlers.core.features import Feature
from handlers.core.messages import Button, OutgoingFile, Reply
from handlers.core.router import MENU_PAYLOAD_PREFIX
from handlers.rankings.text import Shown, cadre_digest, level_chart, member_digest, notice_parts, period_title
from models.errors import N_
from models.notices import Attachment, AttachmentKind
from models.rankings.digests import cadre_view, get_digest, latest_digest, may_publish, pending_draft
from models.rankings.periods import parse_period
from models.rankings.publishing import publish_digest
from models.rankings.tables import DigestStatus, RankingDigest, RankingPolicy

PNG = "image/png"


def as_reply(shown: Shown) -> Reply:
    image = OutgoingFile(str(shown.chart), shown.chart.name, PNG) if shown.chart is not None else None
    return Reply(shown.text, image=image)


def _digest_for(ctx: Context, arg: str) -> RankingDigest | None:
    """The period asked for ("排行榜 2026-11"), or the latest published; a draft only to its publisher."""
    assert ctx.member is not None
    if arg.strip():
        digest = get_digest(ctx.session, parse_period(arg))
        if digest.status is DigestStatus.DRAFT and not may_publish(ctx.session, ctx.member):
            return None
        return digest
    return latest_digest(ctx.session)


def _ranking(ctx: Context, arg: str) -> list[Reply]:
    assert ctx.member is not None  # the router binds first
    replies: list[Reply] = []
    digest = _digest_for(ctx, arg)
    if digest is None:
        replies.append(Reply(ctx.t("还没有发布过排名。每月初会推送上月的单位排名。")))
    else:
        top = ctx.config.policy(RankingPolicy).top_units
        replies.append(as_reply(member_digest(ctx.session, ctx.t, digest, ctx.member, top=top)))
        view = cadre_view(ctx.session, actor=ctx.member) if ctx.grants.cadre else None
        if view is not None:
            replies.append(as_reply(cadre_digest(ctx.session, ctx.t, digest, view)))
    if ctx.grants.cadre and may_publish(ctx.session, ctx.member):
        draft = pending_draft(ctx.session)
        if draft is not None:
            label = ctx.t("审阅季度排名草稿")
            replies.append(
                Reply(
                    ctx.t("{period}的排名草稿已生成，等待您审阅发布。").format(
                        period=period_title(ctx.t, draft)
                    ),
                    buttons=(Button(label, f"{MENU_PAYLOAD_PREFIX}{DRAFT.name}:{draft.period}"),),
                )
            )
    return replies


def _draft(ctx: Context, arg: str) -> list[Reply]:
    """The quarter's draft exactly as the notice will read, with the button that publishes it."""
    assert ctx.member is not None
    draft = get_digest(ctx.session, parse_period(arg)) if arg.strip() else pending_draft(ctx.session)
    if draft is None or draft.status is not DigestStatus.DRAFT:
        return [Reply(ctx.t("没有待发布的季度排名。"))]
    parts = notice_parts(ctx.session, ctx.t, draft)
    replies = [Reply(ctx.t("以下是将以通知发给全体会员的内容："))]
    replies.extend(Reply(f"{title}\n\n{body}") for title, body in parts)
    publish = Button(ctx.t("发布给全体会员"), f"{MENU_PAYLOAD_PREFIX}{PUBLISH.name}:{draft.period}")
    replies.append(
        Reply(ctx.t("确认无误后请发布；发布后不能撤回排名，只能另发通知更正。"), buttons=(publish,))
    )
    return replies


def _publish(ctx: Context, arg: str) -> list[Reply]:
    assert ctx.member is not None
    draft = get_digest(ctx.session, parse_period(arg)) if arg.strip() else pending_draft(ctx.session)
    if draft is None:
        return [Reply(ctx.t("没有待发布的季度排名。"))]
    parts = notice_parts(ctx.session, ctx.t, draft)
    attachment = _kept_chart(ctx, draft)
    notices = publish_digest(
        ctx.session, actor=ctx.member, digest=draft, parts=parts, now=ctx.now, attachment=attachment
    )
    count = sum(notice.recipient_count for notice in notices)
    text = ctx.t("{period}的排名已发布，将以通知发给 {count} 位会员，并保留在“排行榜”中。").format(
        period=period_title(ctx.t, draft), count=count
    )
    return [Reply(text)]


def _kept_chart(ctx: Context, digest: RankingDigest) -> Attachment | None:
    """The first level's chart, copied where notices' files are kept: a notice is read for months."""
    shown = level_chart(ctx.session, ctx.t, digest, None)
    if shown.chart is None:
        return None
    kept = Path(ctx.config.export_dir) / f"ranking-{digest.period}-{digest.id}.png"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shown.chart, kept)
    return Attachment(AttachmentKind.IMAGE, str(kept), PNG, kept.stat().st_size, kept.name)


FEATURE = Feature(
    name="ranking",
    rank=55,
    label=N_("排行榜"),
    summary=N_("本单位在同级单位中的排名、得分和星级"),
    words=("/ranking", "排行榜", "排行", "排名", "排行榜单", "打分排队", "ranking"),
    phrases=("排行", "排名"),
    run=_ranking,
)

DRAFT = Feature(
    name="ranking_draft",
    label=N_("审阅季度排名"),
    summary=N_("审阅季度排名草稿并发布"),
    words=("审阅季度排名", "季度排名草稿"),
    run=_draft,
    in_menu=False,
    available=lambda ctx: ctx.member is not None and may_publish(ctx.session, ctx.member),
)

PUBLISH = Feature(
    name="ranking_publish",
    label=N_("发布季度排名"),
    summary=N_("把季度排名作为通知发给全体会员"),
    words=("发布季度排名",),
    run=_publish,
    in_menu=False,
    available=lambda ctx: ctx.member is not None and may_publish(ctx.session, ctx.member),
)
