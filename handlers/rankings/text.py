"""The digest in words and as a chart: a member's own unit, a cadre's table, the published notice.

Everything is read from the stored digest (:mod:`models.rankings.digests`), so the
push, the 排行榜 view and the command line say the same thing about a period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col

from handlers.core.i18n import Translator
from handlers.rankings.chart import BARS_MAX, Bar, cached_chart, chart_bars
from models.base import visible_length
from models.members import Member
from models.notices import BODY_MAX
from models.rankings.digests import (
    CadreView,
    entry_of,
    level_entries,
    level_top,
    member_unit_entry,
    previous_digest,
    subtree_entries,
)
from models.rankings.periods import period_of_key
from models.rankings.tables import STAR_LABELS, TIER_LABELS, DigestKind, RankingDigest, RankingEntry, Tier
from models.units import PATH_SEPARATOR, Unit

# How many components a member is told moved their unit's score most.
MOVERS_MAX = 2


def period_title(t: Translator, digest: RankingDigest) -> str:
    period = period_of_key(digest.kind, digest.period)
    return t(period.title).format(year=period.year, number=period.number)


def unit_labels(session: Session, unit_ids: Iterable[int]) -> dict[int, str]:
    """Each unit as members know it among its level: its path below the union ("一车间/甲班")."""
    wanted = set(unit_ids)
    if not wanted:
        return {}
    paths = dict(
        session.execute(sa.select(col(Unit.id), col(Unit.id_path)).where(col(Unit.id).in_(wanted))).all()
    )
    chains = {
        unit_id: [int(part) for part in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]
        for unit_id, path in paths.items()
    }
    named = {above for chain in chains.values() for above in chain[1:]}
    names = dict(
        session.execute(sa.select(col(Unit.id), col(Unit.name)).where(col(Unit.id).in_(named))).all()
    )
    return {unit_id: "/".join(names[above] for above in chain[1:]) for unit_id, chain in chains.items()}


def _score_labels(t: Translator, digest: RankingDigest) -> dict[str, str]:
    return {str(score_id): t(str(label)) for score_id, label in digest.scores}


def _standing(t: Translator, entry: RankingEntry) -> str:
    assert entry.tier is not None
    assert entry.stars is not None
    return t("{score} 分，{tier}，{stars}").format(
        score=f"{entry.score:.1f}", tier=t(TIER_LABELS[Tier(entry.tier)]), stars=t(STAR_LABELS[entry.stars])
    )


def _left_out(t: Translator, digest: RankingDigest, entry: RankingEntry | None) -> list[str]:
    """What the digest says about scores it could not count: for everyone, or for this unit."""
    labels = _score_labels(t, digest)
    everyone = [labels.get(str(score_id), str(score_id)) for score_id in digest.left_out]
    lines = []
    if everyone:
        lines.append(
            t("本期未计入：{scores}（暂无数据），其权重已由其余各项按比例分摊。").format(
                scores=t("、").join(everyone)
            )
        )
    if entry is not None:
        own = [
            labels.get(str(score_id), str(score_id))
            for score_id in entry.missing
            if score_id not in digest.left_out
        ]
        if own:
            lines.append(
                t("本单位未计入：{scores}（暂无数据），其权重已由其余各项按比例分摊。").format(
                    scores=t("、").join(own)
                )
            )
    return lines


def _moves(
    t: Translator, digest: RankingDigest, entry: RankingEntry, before: RankingEntry | None
) -> list[str]:
    """What moved the unit since the last period: its rank, its score, the components that changed most."""
    if (
        before is None
        or before.score is None
        or entry.score is None
        or entry.rank is None
        or before.rank is None
    ):
        return [t("上期没有可比的排名。")]
    change = entry.score - before.score
    if entry.rank < before.rank:
        rank = t("上升 {count} 名").format(count=before.rank - entry.rank)
    elif entry.rank > before.rank:
        rank = t("下降 {count} 名").format(count=entry.rank - before.rank)
    else:
        rank = t("名次不变")
    lines = [t("与上期相比：{rank}，得分 {change}。").format(rank=rank, change=f"{change:+.1f}")]
    labels = _score_labels(t, digest)
    deltas = []
    for score_id, pair in entry.components.items():
        old = before.components.get(score_id)
        if old is not None:
            delta = float(pair[1]) - float(old[1])
            if abs(delta) >= 0.05:
                deltas.append((abs(delta), delta, score_id))
    deltas.sort(key=lambda item: (-item[0], item[2]))
    if deltas:
        parts = [
            t("{score} {change}").format(score=labels.get(score_id, score_id), change=f"{delta:+.1f}")
            for _size, delta, score_id in deltas[:MOVERS_MAX]
        ]
        lines.append(t("变化最大的是：{parts}。").format(parts=t("，").join(parts)))
    return lines


def _table_lines(t: Translator, entries: Sequence[RankingEntry], labels: Mapping[int, str]) -> list[str]:
    lines = []
    for entry in entries:
        if entry.score is None:
            lines.append(t("— {unit}：暂无数据").format(unit=labels[entry.unit_id]))
        else:
            lines.append(
                t("{rank}. {unit}　{standing}").format(
                    rank=entry.rank, unit=labels[entry.unit_id], standing=_standing(t, entry)
                )
            )
    return lines


def _contributors(session: Session, t: Translator, digest: RankingDigest) -> list[str]:
    if not digest.contributors:
        return []
    ids = [int(member_id) for member_id, _points in digest.contributors]
    names = dict(
        session.execute(sa.select(col(Member.id), col(Member.name)).where(col(Member.id).in_(ids))).all()
    )
    people = [
        t("{name} {points} 分").format(name=names.get(int(member_id), "?"), points=points)
        for member_id, points in digest.contributors
    ]
    return [t("金点子积分榜：{people}。").format(people=t("、").join(people))]


@dataclass(frozen=True)
class Shown:
    """A digest as one person sees it: the text, and the chart when there is a level to draw."""

    text: str
    chart: Path | None


def _chart(
    t: Translator,
    digest: RankingDigest,
    entries: Sequence[RankingEntry],
    labels: Mapping[int, str],
    highlight: int | None,
    view: str,
) -> Path | None:
    bars = [
        Bar(labels[entry.unit_id], float(entry.score), int(entry.rank), entry.unit_id == highlight)
        for entry in entries
        if entry.score is not None and entry.rank is not None
    ]
    if not bars:
        return None
    title = t("{period} 单位排名").format(period=period_title(t, digest))
    key = f"{digest.period}-{digest.id}-{view}-{t.locale}"
    return cached_chart(key, chart_bars(bars), title=title, axis=t("综合得分"))


def member_digest(
    session: Session, t: Translator, digest: RankingDigest, member: Member, *, top: int = 3
) -> Shown:
    """Where the member's unit stands at its level, what moved it, and the level's best."""
    assert digest.id is not None
    title = t("【排行榜】{period}").format(period=period_title(t, digest))
    entry = member_unit_entry(session, digest, member)
    if entry is None:
        return Shown(t("{title}\n您所在的单位不参加本期排名。").format(title=title), None)
    best_of_level = level_top(
        session, digest.id, root_id=entry.root_id, depth=entry.depth, limit=max(top, BARS_MAX)
    )
    entries = [*best_of_level, *([] if entry in best_of_level else [entry])]
    labels = unit_labels(session, [row.unit_id for row in entries])
    lines = [title, t("您所在的单位：{unit}").format(unit=labels[entry.unit_id])]
    if entry.score is None or entry.rank is None:
        lines.append(t("本期暂无数据，未参加排名。"))
    else:
        lines.append(
            t("在同级 {size} 个单位中排第 {rank} 名：{standing}。").format(
                size=entry.level_size, rank=entry.rank, standing=_standing(t, entry)
            )
        )
        before_digest = previous_digest(session, digest)
        before = (
            entry_of(session, before_digest.id, entry.unit_id)
            if before_digest is not None and before_digest.id is not None
            else None
        )
        lines.extend(_moves(t, digest, entry, before))
    best = best_of_level[:top]
    if best:
        lines.append(t("同级前 {count} 名：").format(count=len(best)))
        lines.extend(_table_lines(t, best, labels))
    lines.extend(_contributors(session, t, digest))
    lines.extend(_left_out(t, digest, entry))
    chart = _chart(t, digest, entries, labels, entry.unit_id, f"u{entry.unit_id}")
    return Shown("\n".join(lines), chart)


def cadre_digest(session: Session, t: Translator, digest: RankingDigest, view: CadreView) -> Shown:
    """The full table of the cadre's subtree at its level, with each unit's place in the whole level."""
    entries = subtree_entries(session, digest, view)
    labels = unit_labels(session, [row.unit_id for row in entries])
    level_size = entries[0].level_size if entries else 0
    lines = [
        t("【排行榜】{period}　{unit}下属单位").format(period=period_title(t, digest), unit=view.unit.name),
        t("名次为在同级全部 {size} 个单位中的名次。").format(size=level_size),
        *_table_lines(t, entries, labels),
        *_left_out(t, digest, None),
    ]
    chart = _chart(t, digest, entries, labels, None, f"c{view.unit.id}")
    return Shown("\n".join(lines), chart)


def notice_parts(session: Session, t: Translator, digest: RankingDigest) -> list[tuple[str, str]]:
    """A quarter's ranking as the notice(s) the whole union receives: each level's table, in parts
    when longer than a notice may be (a part is never cut mid-line)."""
    assert digest.id is not None
    title = t("{period}单位排名").format(period=period_title(t, digest))
    roots = session.execute(
        sa.select(col(RankingEntry.root_id), col(RankingEntry.depth))
        .distinct()
        .where(col(RankingEntry.digest_id) == digest.id)
        .order_by(col(RankingEntry.depth), col(RankingEntry.root_id))
    )
    lines: list[str] = []
    for root_id, depth in roots:
        entries = level_entries(session, digest.id, root_id=root_id, depth=depth)
        labels = unit_labels(session, [row.unit_id for row in entries])
        lines.append(t("第 {depth} 级单位（共 {size} 个）：").format(depth=depth, size=len(entries)))
        lines.extend(_table_lines(t, entries, labels))
        lines.append("")
    lines.extend(_contributors(session, t, digest))
    lines.extend(_left_out(t, digest, None))
    parts: list[list[str]] = [[]]
    for line in lines:
        if parts[-1] and visible_length("\n".join([*parts[-1], line])) > BODY_MAX:
            parts.append([])
        parts[-1].append(line)
    bodies = ["\n".join(part).strip() for part in parts if "\n".join(part).strip()]
    if len(bodies) == 1:
        return [(title, bodies[0])]
    return [
        (t("{title}（{part}/{parts}）").format(title=title, part=number, parts=len(bodies)), body)
        for number, body in enumerate(bodies, start=1)
    ]


def level_chart(session: Session, t: Translator, digest: RankingDigest, unit_id: int | None) -> Shown:
    """The table and chart of one unit's level, that unit highlighted (the command line's render);
    the first level of the union when no unit is named."""
    assert digest.id is not None
    entry = entry_of(session, digest.id, unit_id) if unit_id is not None else None
    if entry is None:
        first = session.execute(
            sa.select(col(RankingEntry.root_id), col(RankingEntry.depth))
            .where(col(RankingEntry.digest_id) == digest.id)
            .order_by(col(RankingEntry.depth), col(RankingEntry.root_id))
            .limit(1)
        ).first()
        if first is None:
            return Shown(t("{period} 没有可排名的单位。").format(period=period_title(t, digest)), None)
        root_id, depth = first
    else:
        root_id, depth = entry.root_id, entry.depth
    entries = level_entries(session, digest.id, root_id=root_id, depth=depth)
    labels = unit_labels(session, [row.unit_id for row in entries])
    lines = [
        t("【排行榜】{period}").format(period=period_title(t, digest)),
        *_table_lines(t, entries, labels),
        *_left_out(t, digest, entry),
    ]
    view = f"l{root_id}-{depth}-u{unit_id}"
    return Shown("\n".join(lines), _chart(t, digest, entries, labels, unit_id, view))


def is_quarter(digest: RankingDigest) -> bool:
    return digest.kind is DigestKind.QUARTER
