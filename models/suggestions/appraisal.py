"""季评比: the quarterly appraisal of adopted suggestions, and its result published as a notice.

"月征集、季评比": each quarter the chair (``APPRAISE_SUGGESTIONS``: chair and
admin, not every reviewer) looks at the suggestions their subtree adopted in
that quarter, ranked by the value they created, and names the 金点子, 银点子
and 鼓励奖 with their prize money. The awards are given all at once or not at
all — an appraisal half written would publish a result nobody decided — and
each proposer hears of their award through :func:`models.suggestions.award_suggestion`.

The published result is a notice (models/notices.py) to the unit's subtree.
A notice stores its title and body as text, fixed when it is queued and read
by every member as written — the same for a cadre's own notice — so the
result is written here, in the union's default language: the msgids below
are zh_CN sentences, and the caller may pass the default locale's translator
when the union runs in another language. An anonymous proposer appears as
"匿名": the notice goes to everyone, so it must not give away what the
suggestion's own screens hide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from models.base import visible_length
from models.errors import N_, DomainError, InvalidInput, NotFound, PermissionDenied
from models.members import Member
from models.notices import BODY_MAX, Notice, NoticeCategory, NoticeDraft, Target, TargetKind, create_notice
from models.periods import QUARTER_TITLES
from models.roles import Permission, has_permission
from models.suggestions.actions import award_suggestion
from models.suggestions.anonymity import shown_units
from models.suggestions.figures import money_text
from models.suggestions.tables import (
    AWARD_LABELS,
    Award,
    Suggestion,
    SuggestionPolicy,
    SuggestionStatus,
    SuggestionSupport,
    utc_midnight,
)
from models.units import PATH_SEPARATOR, Unit, get_unit

Translate = Callable[[str], str]

QUARTERS = (1, 2, 3, 4)
PERIOD_LABELS = QUARTER_TITLES
# Highest first: the order the result lists them in.
AWARD_ORDER: tuple[Award, ...] = (Award.GOLD, Award.SILVER, Award.ENCOURAGEMENT)
ANONYMOUS = N_("匿名")


def _untranslated(message: str) -> str:
    return message


class AppraisalRefused(DomainError):
    """One award of an appraisal was refused, so none of them was given.

    The message is the refusal's own (``cause``); ``number`` and ``title`` name
    the suggestion it concerns, for the cadre to see which one to change.
    """

    def __init__(self, suggestion: Suggestion, cause: DomainError) -> None:
        super().__init__("appraisal.refused", cause.msgid, **cause.params)
        assert suggestion.id is not None
        self.suggestion_id = suggestion.id
        self.number = suggestion.number or ""
        self.title = suggestion.title
        self.cause = cause


@dataclass(frozen=True)
class Candidate:
    """An adopted suggestion of the quarter as the appraisal shows it; ``proposer`` None when anonymous.

    ``unit_path`` is the suggestion's unit below the appraised unit ("一车间/甲班"
    under 厂工会), which is all anybody in that unit needs to place it; for an
    anonymous one, the unit it is shown under (:mod:`models.suggestions.anonymity`).
    """

    rank: int
    suggestion: Suggestion
    unit_path: str
    proposer: Member | None
    supporters: int

    @property
    def id(self) -> int:
        assert self.suggestion.id is not None
        return self.suggestion.id

    @property
    def awarded(self) -> bool:
        return self.suggestion.award is not None


@dataclass(frozen=True)
class AwardChoice:
    """One line of an appraisal: the suggestion, the version the cadre saw, the award and the prize (fen)."""

    suggestion_id: int
    expected_version: int
    award: Award
    prize_fen: int


def check_quarter(year: int, quarter: int) -> None:
    """Refuse a quarter that does not exist.

    Raises:
        InvalidInput: ``appraisal.quarter``.
    """
    if quarter not in QUARTERS or not 2000 <= year <= 2999:
        raise InvalidInput("appraisal.quarter", N_("请按“2026Q4”或“2026年第四季度”的样子输入季度。"))


def quarter_of(day: date) -> tuple[int, int]:
    """The (year, quarter) a calendar day falls in."""
    return day.year, (day.month - 1) // 3 + 1


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def quarter_dates(year: int, quarter: int) -> tuple[date, date]:
    """The quarter's first local day and the first day after it."""
    check_quarter(year, quarter)
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


def quarter_bounds(year: int, quarter: int, policy: SuggestionPolicy) -> tuple[datetime, datetime]:
    """The quarter as UTC instants [start, end): a decision at 23:30 on 31 March in Shanghai counts for Q1."""
    start, end = quarter_dates(year, quarter)
    return utc_midnight(start, policy.zone), utc_midnight(end, policy.zone)


def period_text(year: int, quarter: int, t: Translate = _untranslated) -> str:
    """ "2026年第四季度", in the language of ``t``."""
    return t(PERIOD_LABELS[quarter]).format(year=year)


def _require_appraiser(session: Session, actor: Member, unit: Unit) -> None:
    if not has_permission(session, actor, Permission.APPRAISE_SUGGESTIONS, unit):
        raise PermissionDenied(
            "appraisal.not_allowed", N_("抱歉，季度评比由工会主席负责，您没有这个单位的评比权限。")
        )


def _path_ids(unit: Unit) -> list[int]:
    return [int(part) for part in unit.id_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]


def _relative_paths(session: Session, units: Sequence[Unit], top: Unit) -> dict[int, str]:
    """Each unit's path below ``top`` ("一车间/甲班"), ``top`` itself by its name; one query for all."""
    depth = len(_path_ids(top))
    shown = {
        unit.id: _path_ids(unit)[depth:] or _path_ids(unit)[-1:] for unit in units if unit.id is not None
    }
    wanted = {unit_id for ids in shown.values() for unit_id in ids}
    names = dict(session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(wanted))).all())
    return {unit_id: PATH_SEPARATOR.join(names[i] for i in ids) for unit_id, ids in shown.items()}


def _in_quarter(year: int, quarter: int, policy: SuggestionPolicy) -> sa.ColumnElement[bool]:
    start, end = quarter_bounds(year, quarter, policy)
    return sa.and_(
        col(Suggestion.adopted).is_(True),
        col(Suggestion.status) != SuggestionStatus.MERGED,
        col(Suggestion.decided_at) >= start,
        col(Suggestion.decided_at) < end,
    )


def quarter_candidates(
    session: Session, *, actor: Member, unit_id: int, year: int, quarter: int, policy: SuggestionPolicy
) -> list[Candidate]:
    """The suggestions of the unit's subtree adopted in the quarter, best first.

    Ranked by the value created (none recorded counts as nothing yet), then by
    supporters — an idea many colleagues backed — then by the earlier decision.

    Raises:
        NotFound: no such unit.
        PermissionDenied: the actor may not appraise the unit (``appraisal.not_allowed``).
        InvalidInput: no such quarter.
    """
    top = get_unit(session, unit_id)
    _require_appraiser(session, actor, top)
    check_quarter(year, quarter)
    supports = (
        select(SuggestionSupport.suggestion_id, func.count().label("supporters"))
        .group_by(col(SuggestionSupport.suggestion_id))
        .subquery()
    )
    supporters = func.coalesce(supports.c.supporters, 0)
    rows = session.exec(
        select(Suggestion, Unit, supporters)
        .join(Unit, col(Unit.id) == Suggestion.unit_id)
        .outerjoin(supports, supports.c.suggestion_id == Suggestion.id)
        .where(col(Unit.id_path).startswith(top.id_path), _in_quarter(year, quarter, policy))
        .order_by(
            func.coalesce(col(Suggestion.value_fen), 0).desc(),
            supporters.desc(),
            col(Suggestion.decided_at),
            col(Suggestion.id),
        )
    ).all()
    named = {suggestion.proposer_id for suggestion, _unit, _count in rows if not suggestion.anonymous}
    members = {
        member.id: member for member in session.exec(select(Member).where(col(Member.id).in_(named))).all()
    }
    # An anonymous one is placed no closer than a crowd, and never above the appraised unit.
    shown = shown_units(session, [suggestion for suggestion, _unit, _count in rows], policy)
    placed = {key: unit if top.contains(unit) else top for key, unit in shown.items()}
    paths = _relative_paths(session, list(placed.values()), top)
    return [
        Candidate(
            rank=rank,
            suggestion=suggestion,
            unit_path=paths[placed[suggestion.id or 0].id or 0],
            # Never looked up for an anonymous suggestion: what is not loaded cannot leak.
            proposer=None if suggestion.anonymous else members.get(suggestion.proposer_id),
            supporters=int(count),
        )
        for rank, (suggestion, _unit, count) in enumerate(rows, start=1)
    ]


def apply_appraisal(
    session: Session,
    *,
    actor: Member,
    year: int,
    quarter: int,
    awards: Sequence[AwardChoice],
    now: datetime,
    policy: SuggestionPolicy,
) -> list[Suggestion]:
    """Give every award of the appraisal in one go; each proposer is told of theirs.

    A savepoint holds them together, so a refusal undoes the awards already
    given in this call even when the caller goes on with its transaction (the
    dialog shows the list again); nothing else the session did is lost.

    Raises:
        InvalidInput: ``appraisal.empty`` when no award is given, or no such quarter.
        NotFound: a suggestion of the list no longer exists.
        AppraisalRefused: one award was refused (outside the quarter or the actor's scope, listed
            twice, changed by someone since it was listed, already awarded, not adopted, not yet
            implemented where the union requires it, a bad prize); none was given.
    """
    check_quarter(year, quarter)
    if not awards:
        raise InvalidInput("appraisal.empty", N_("还没有选择要评奖的建议。"))
    start, end = quarter_bounds(year, quarter, policy)
    given: list[Suggestion] = []
    seen: set[int] = set()
    with session.begin_nested():
        for choice in awards:
            suggestion = session.get(Suggestion, choice.suggestion_id)
            if suggestion is None:
                raise NotFound("suggestion.not_found", N_("找不到这条建议，可能已被合并或删除。"))
            try:
                if choice.suggestion_id in seen:
                    raise InvalidInput(
                        "appraisal.twice", N_("这条建议在本次评比里出现了两次，一条建议只能评一个奖项。")
                    )
                seen.add(choice.suggestion_id)
                unit = session.get(Unit, suggestion.unit_id)
                assert unit is not None
                _require_appraiser(session, actor, unit)
                decided = suggestion.decided_at
                if not suggestion.adopted or decided is None or not start <= decided < end:
                    raise InvalidInput(
                        "appraisal.not_in_quarter",
                        N_("这条建议不是 {year} 年第 {quarter} 季度采纳的，不能参加这一季度的评比。"),
                        year=year,
                        quarter=quarter,
                    )
                given.append(
                    award_suggestion(
                        session,
                        actor=actor,
                        suggestion_id=choice.suggestion_id,
                        expected_version=choice.expected_version,
                        award=choice.award,
                        prize_fen=choice.prize_fen,
                        policy=policy,
                        now=now,
                    )
                )
            except DomainError as error:
                # Leaving the block rolls the savepoint back: no award of this appraisal stays.
                raise AppraisalRefused(suggestion, error) from error
    return given


def awarded_in_quarter(
    session: Session, *, actor: Member, unit_id: int, year: int, quarter: int, policy: SuggestionPolicy
) -> list[Candidate]:
    """The quarter's awarded suggestions of the unit's subtree: 金点子 first, then 银点子, then 鼓励奖.

    Raises:
        The errors of :func:`quarter_candidates`.
    """
    candidates = quarter_candidates(
        session, actor=actor, unit_id=unit_id, year=year, quarter=quarter, policy=policy
    )
    level = {award: position for position, award in enumerate(AWARD_ORDER)}
    awarded = [candidate for candidate in candidates if candidate.suggestion.award is not None]
    return sorted(awarded, key=lambda c: (level[c.suggestion.award or Award.ENCOURAGEMENT], c.rank))


def _entry(candidate: Candidate, t: Translate) -> str:
    """One awarded suggestion as the notice lists it; a value not yet recorded is left out, not promised."""
    suggestion = candidate.suggestion
    value = suggestion.value_fen
    params = {
        "number": suggestion.number,
        "title": suggestion.title,
        "unit": candidate.unit_path,
        "proposer": candidate.proposer.name if candidate.proposer is not None else t(ANONYMOUS),
        "prize": money_text(suggestion.prize_fen or 0, t),
    }
    if value is None:
        return t(N_("{number} {title}（{unit}，{proposer}），奖金 {prize}")).format(**params)
    return t(N_("{number} {title}（{unit}，{proposer}），创效 {value}，奖金 {prize}")).format(
        **params, value=money_text(value, t)
    )


def appraisal_text(
    *,
    candidates: Sequence[Candidate],
    unit: Unit,
    year: int,
    quarter: int,
    t: Translate = _untranslated,
) -> tuple[str, list[str]]:
    """The notice's title and its body, cut into parts that each fit one notice.

    Whole lines only: a long result goes out as several notices ("（1/2）")
    rather than one cut off mid-line.
    """
    period = period_text(year, quarter, t)
    total = sum(candidate.suggestion.prize_fen or 0 for candidate in candidates)
    count = len(candidates)
    title = t(N_("{period}合理化建议评比结果")).format(period=period)
    intro = t(
        N_("{period}，{unit}的合理化建议评比已经结束。获奖建议 {count} 条，奖金合计 {total}。名单如下：")
    ).format(period=period, unit=unit.name, count=count, total=money_text(total, t))
    blocks: list[str] = []
    for award in AWARD_ORDER:
        group = [candidate for candidate in candidates if candidate.suggestion.award is award]
        if group:
            heading = t(N_("【{award}】{count} 条")).format(award=t(AWARD_LABELS[award]), count=len(group))
            blocks.extend(["", heading])
            blocks.extend(_entry(candidate, t) for candidate in group)
    thanks = t(N_("感谢大家献计献策，欢迎继续提出合理化建议！"))
    parts: list[list[str]] = [[intro]]
    for line in [*blocks, "", thanks]:
        current = parts[-1]
        if current and visible_length("\n".join([*current, line])) > BODY_MAX:
            parts.append([])
        parts[-1].append(line)
    return title, ["\n".join(part) for part in parts]


@dataclass(frozen=True)
class AppraisalNotice:
    """The result exactly as it will be published: one or more notices, and to whom they go."""

    parts: tuple[tuple[str, str], ...]
    """Each notice's title and body, in order."""
    target: Target


def appraisal_notice(
    session: Session,
    *,
    actor: Member,
    year: int,
    quarter: int,
    unit_id: int,
    policy: SuggestionPolicy,
    t: Translate = _untranslated,
) -> AppraisalNotice:
    """The quarter's result as :func:`publish_appraisal` would send it now: what the chair previews.

    Raises:
        PermissionDenied: the actor may not appraise the unit (``appraisal.not_allowed``).
        InvalidInput: ``appraisal.nothing_awarded``, no award was given that quarter.
    """
    unit = get_unit(session, unit_id)
    candidates = awarded_in_quarter(
        session, actor=actor, unit_id=unit_id, year=year, quarter=quarter, policy=policy
    )
    if not candidates:
        raise InvalidInput(
            "appraisal.nothing_awarded",
            N_("{year} 年第 {quarter} 季度还没有评出获奖建议，没有可以发布的评比结果。"),
            year=year,
            quarter=quarter,
        )
    title, bodies = appraisal_text(candidates=candidates, unit=unit, year=year, quarter=quarter, t=t)
    parts = tuple(
        (title if len(bodies) == 1 else f"{title}（{part}/{len(bodies)}）", body)
        for part, body in enumerate(bodies, start=1)
    )
    return AppraisalNotice(parts=parts, target=Target(kind=TargetKind.UNITS, unit_ids=(unit_id,)))


def publish_appraisal(
    session: Session,
    *,
    actor: Member,
    year: int,
    quarter: int,
    unit_id: int,
    now: datetime,
    policy: SuggestionPolicy,
    t: Translate = _untranslated,
) -> list[Notice]:
    """Send the quarter's result to every member of the unit's subtree, under 通知公告.

    通知公告 rather than 厂务公开: the appraisal is the union's own announcement
    (通报) of its members' ideas; 厂务公开 is where the enterprise's own affairs
    are opened to the workers. ``t`` writes the text; by default in the msgids'
    language, zh_CN (see the module's docstring). Usually one notice; a result
    too long for one goes out in parts. The text is :func:`appraisal_notice`'s,
    so what the chair previewed is what goes out.

    Returns:
        The notices queued, in order; each records how many members it goes to.

    Raises:
        PermissionDenied: the actor may not appraise the unit (``appraisal.not_allowed``).
        InvalidInput: ``appraisal.nothing_awarded``, no award was given that quarter.
        PermissionDenied, InvalidInput: the errors of :func:`models.notices.create_notice`
            (the actor may not send notices there, nobody to send to).
    """
    notice = appraisal_notice(
        session, actor=actor, year=year, quarter=quarter, unit_id=unit_id, policy=policy, t=t
    )
    notices = []
    for title, body in notice.parts:
        draft = NoticeDraft(title=title, body=body, category=NoticeCategory.NOTICE, target=notice.target)
        notices.append(create_notice(session, actor=actor, draft=draft, now=now))
    return notices
