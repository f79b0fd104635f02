"""合理化建议 in the demo union: members of 一车间 have handed in suggestions at every stage.

The demo's people are loaded first (bot.demo_data). One suggestion is late for registration, one
anonymous, one first-reviewed, and one adopted, put in place and awarded, all handled by the chair
of 一车间, so her 建议办理 queue and 建议统计 have work in them and a proposer's 我的建议 a history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session

from handlers.core.context import CoreConfig
from models.members import get_member_by_employee_no
from models.suggestions import (
    Award,
    SuggestionDraft,
    SuggestionPolicy,
    award_suggestion,
    decide_suggestion,
    first_review,
    record_effect,
    register_suggestion,
    reply_to_proposer,
    start_implementation,
    submit_suggestion,
)

CHAIR_NO = "2001"  # 李秀英, 工会主席 of 一车间


# How far a suggestion has got; each stage includes the ones before it.
Reached = Literal["submitted", "reviewed", "awarded"]
# 工号, days ago, category, title, measure, anonymous, how far it got
SUGGESTIONS: tuple[tuple[str, int, str, str, str, bool, Reached], ...] = (
    (
        "2103",
        12,
        "安全生产",
        "叉车通道转弯处加装凸面镜",
        "二号库房出口转弯处视线被货架挡住，叉车和行人容易相撞。建议在转角加装两面凸面镜，并划出行人通道。",
        False,
        "submitted",
    ),
    (
        "2202",
        2,
        "生活福利",
        "夜班增加热饭窗口",
        "夜班职工凌晨只能吃凉饭。建议食堂夜里留一个窗口，提供热饭热汤。",
        True,
        "submitted",
    ),
    (
        "2301",
        20,
        "节能降耗",
        "空压机余热回收用于浴室热水",
        "空压机运行时散热量很大，白白排掉。建议在出口加装板式换热器，给职工浴室供热水，可停用一台电热水器。",
        False,
        "awarded",
    ),
    (
        "2104",
        9,
        "生产技术",
        "冲压线加装光电保护",
        "冲压线人工上料时容易伤手。建议加装光电保护装置，手进入危险区域时自动停机。",
        False,
        "reviewed",
    ),
)


def seed_suggestions(session: Session, config: CoreConfig, now: datetime) -> None:
    """The suggestions, each dated as if handed in its days before ``now`` and handled since."""
    policy = config.policy(SuggestionPolicy)
    chair = get_member_by_employee_no(session, CHAIR_NO)
    for employee_no, days_ago, category, title, measure, anonymous, stage in SUGGESTIONS:
        proposer = get_member_by_employee_no(session, employee_no)
        when = now - timedelta(days=days_ago)
        # A union that set its own categories gets the demo's ideas filed under its last one (其他).
        filed_as = category if category in policy.categories else policy.categories[-1]
        draft = SuggestionDraft(category=filed_as, title=title, measure=measure, anonymous=anonymous)
        item = submit_suggestion(session, actor=proposer, draft=draft, policy=policy, now=when)
        assert item.id is not None
        if stage == "submitted":
            continue
        sid = item.id
        item = register_suggestion(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            category=filed_as,
            department="设备科",
            reviewer_id=None,
            policy=policy,
            now=when + timedelta(days=1),
        )
        item = first_review(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            opinion="思路清楚，投入不大，建议采纳。",
            now=when + timedelta(days=2),
        )
        if stage == "reviewed":
            continue
        item = decide_suggestion(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            adopted=True,
            reason="经测算每年可节约电费约 3 万元。",
            policy=policy,
            now=when + timedelta(days=3),
        )
        started = (when + timedelta(days=5)).astimezone(policy.zone).date()
        item = start_implementation(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            started_on=started,
            notes="设备科已安排检修班施工。",
            policy=policy,
            now=when + timedelta(days=5),
        )
        item = record_effect(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            value_fen=3_200_000,
            implemented_on=started + timedelta(days=7),
            notes="浴室热水全部改由余热供应，停用电热水器一台。",
            policy=policy,
            now=when + timedelta(days=12),
        )
        item = award_suggestion(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            award=Award.GOLD,
            prize_fen=80_000,
            policy=policy,
            now=when + timedelta(days=13),
        )
        reply_to_proposer(
            session,
            actor=chair,
            suggestion_id=sid,
            expected_version=item.version,
            text="感谢您的金点子！奖金随下月工资发放。",
            now=when + timedelta(days=13),
        )
