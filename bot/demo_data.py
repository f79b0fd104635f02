"""The demo union behind ``make demo``: a small plant union to try the bot on.

厂工会 with three units (一车间, 二车间, 运输大队), two or three 班组 each and
41 members, loaded through the same roster import an admin uses, so the demo
also shows that a roster imports cleanly; the chair of 一车间 has sent its
members a notice and a 厂务公开 post, and set out a basketball match for them
that two have signed up for. Members of 一车间 have handed in suggestions at
every stage — one late for registration, one anonymous, one adopted, put in
place and awarded — so the chair's 建议办理 queue and 建议统计 have work in them. Names are
realistic, including the ones real rosters have and software often gets wrong: compound surnames
(欧阳, 司马), a Uyghur name with the middle dot, rare characters (喆, 堃).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from models.activities import ActivityDraft, create_activity, sign_up
from models.base import utcnow
from models.db import SessionFactory
from models.members import Member, get_member_by_employee_no
from models.notices import NoticeCategory, NoticeDraft, Target, TargetKind, create_notice
from models.roster import RosterRow, import_roster, validate_rows
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
from models.units import find_unit

DEMO_ADMIN_NO = "1001"  # 王建国, 管理员 on 厂工会
DEMO_CADRE_NO = "2001"  # 李秀英, 工会主席 of 一车间
DEMO_MEMBER_NO = "2101"  # 张伟, 一车间/甲班

# 工号, 姓名, 单位, 手机, 角色, 月会费 (元)
_DEMO_ROSTER: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("1001", "王建国", "厂工会", "13801012345", "管理员", "45.00"),
    ("1002", "刘淑芬", "厂工会", "13911023486", "", "38.50"),
    ("2001", "李秀英", "厂工会/一车间", "13601137720", "工会主席", "42.00"),
    ("2101", "张伟", "厂工会/一车间/甲班", "13957462108", "", "25.00"),
    ("2102", "陈静", "厂工会/一车间/甲班", "15023894417", "", "22.50"),
    ("2103", "杨帆", "厂工会/一车间/甲班", "18612570934", "", "19.00"),
    ("2104", "欧阳明辉", "厂工会/一车间/甲班", "13725816603", "", "27.50"),
    ("2105", "黄丽", "厂工会/一车间/甲班", "15190347281", "", "18.00"),
    ("2201", "赵磊", "厂工会/一车间/乙班", "18267459013", "", "24.00"),
    ("2202", "周婷", "厂工会/一车间/乙班", "13570284196", "", "16.50"),
    ("2203", "吴敏", "厂工会/一车间/乙班", "15836172045", "", "21.00"),
    ("2204", "徐强", "厂工会/一车间/乙班", "13306519872", "", "29.00"),
    ("2205", "孙丽娟", "厂工会/一车间/乙班", "18859023367", "", "23.50"),
    ("2301", "马超", "厂工会/一车间/丙班", "13148275590", "", "26.00"),
    ("2302", "朱红梅", "厂工会/一车间/丙班", "15267390418", "", "20.00"),
    ("2303", "胡军", "厂工会/一车间/丙班", "17703926815", "", "31.00"),
    ("2304", "郭芳", "厂工会/一车间/丙班", "13689104752", "", "17.50"),
    ("2305", "何平", "厂工会/一车间/丙班", "19912486630", "", "28.00"),
    ("3101", "高峰", "厂工会/二车间/甲班", "13862915047", "职工代表", "33.00"),
    ("3102", "林小燕", "厂工会/二车间/甲班", "15958302761", "", "15.00"),
    ("3103", "罗刚", "厂工会/二车间/甲班", "18025637194", "", "30.50"),
    ("3104", "郑海涛", "厂工会/二车间/甲班", "13217840369", "", "34.00"),
    ("3105", "梁娜", "厂工会/二车间/甲班", "15620478153", "", "18.50"),
    ("3106", "谢婷婷", "厂工会/二车间/甲班", "18973016528", "", "21.50"),
    ("3201", "宋志刚", "厂工会/二车间/乙班", "13590712846", "", "36.00"),
    ("3202", "唐伟", "厂工会/二车间/乙班", "15305629471", "", "24.50"),
    ("3203", "许文", "厂工会/二车间/乙班", "18181934607", "", "19.50"),
    ("3204", "韩雪", "厂工会/二车间/乙班", "13760248915", "", "16.00"),
    ("3205", "买买提·艾力", "厂工会/二车间/乙班", "15599201736", "", "27.00"),
    ("3206", "冯磊", "厂工会/二车间/乙班", "13066817342", "", "32.50"),
    ("4001", "邓国强", "厂工会/运输大队", "13974526081", "工会委员", "40.00"),
    ("4101", "曹阳", "厂工会/运输大队/一班", "15874039265", "", "28.50"),
    ("4102", "彭丽", "厂工会/运输大队/一班", "18720659314", "", "17.00"),
    ("4103", "曾凡", "厂工会/运输大队/一班", "13519386720", "", "25.50"),
    ("4104", "王喆", "厂工会/运输大队/一班", "16638290475", "", "22.00"),
    ("4105", "田野", "厂工会/运输大队/一班", "13837105692", "", "30.00"),
    ("4201", "董明", "厂工会/运输大队/二班", "15737481026", "", "35.00"),
    ("4202", "袁媛", "厂工会/运输大队/二班", "18939520647", "", "20.50"),
    ("4203", "潘浩", "厂工会/运输大队/二班", "13290374518", "", "26.50"),
    ("4204", "司马青", "厂工会/运输大队/二班", "17365028193", "", "23.00"),
    ("4205", "张堃", "厂工会/运输大队/二班", "13409861257", "", "29.50"),
)


# What 李秀英 has already sent to 一车间, so 通知公告 has something to show (heading, title, text).
_DEMO_NOTICES: tuple[tuple[NoticeCategory, str, str], ...] = (
    (
        NoticeCategory.FACTORY_AFFAIRS,
        "三季度职工福利费使用情况",
        "三季度一车间职工福利费共支出 18,600 元：夏送清凉 9,200 元，生日慰问 6,400 元，"
        "困难职工走访 3,000 元。明细在车间公示栏张贴，有疑问请找车间工会。",
    ),
    (
        NoticeCategory.NOTICE,
        "关于报名参加职工疗休养的通知",
        "各位会员：今年职工疗休养分三批进行，每批 5 天。请有意参加的会员于本月 30 日前"
        "向班组长报名，劳动模范和一线职工优先。",
    ),
)


# 工号, days ago, category, title, measure, anonymous, how far it got
_DEMO_SUGGESTIONS: tuple[tuple[str, int, str, str, str, bool, str], ...] = (
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


def _seed_suggestions(sessions: SessionFactory, policy: SuggestionPolicy) -> None:
    """Suggestions at each stage, handled by the chair of 一车间, dated as if handed in days ago."""
    with sessions() as session:
        chair = get_member_by_employee_no(session, DEMO_CADRE_NO)
        for employee_no, days_ago, category, title, measure, anonymous, stage in _DEMO_SUGGESTIONS:
            proposer = get_member_by_employee_no(session, employee_no)
            when = utcnow() - timedelta(days=days_ago)
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


def demo_roster() -> list[RosterRow]:
    """The demo union as roster rows, numbered as in a file with a header line."""
    return [
        RosterRow(
            line=line,
            employee_no=employee_no,
            name=name,
            unit=unit,
            phone=phone,
            roles=roles,
            monthly_dues=dues,
            status="在册",
        )
        for line, (employee_no, name, unit, phone, roles, dues) in enumerate(_DEMO_ROSTER, start=2)
    ]


def demo_phone_last4(employee_no: str = DEMO_MEMBER_NO) -> str:
    """The last four digits of a demo member's phone: what binding asks for after the 工号."""
    for number, _name, _unit, phone, _roles, _dues in _DEMO_ROSTER:
        if number == employee_no:
            return phone[-4:]
    raise KeyError(employee_no)


def seed_demo(sessions: SessionFactory, policy: SuggestionPolicy | None = None) -> bool:
    """Load the demo union unless it is already there.

    Returns:
        True when this call loaded it; False when its people were already in
        the database (running ``make demo`` again keeps what was tried before).
    """
    with sessions() as session:
        demo_people = col(Member.employee_no).in_([DEMO_ADMIN_NO, DEMO_CADRE_NO, DEMO_MEMBER_NO])
        if session.exec(select(Member.id).where(demo_people)).first() is not None:
            return False
        valid, problems = validate_rows(demo_roster())
        if problems:
            # The demo roster is ours: a row the import refuses is a bug here, not user input.
            raise RuntimeError(f"demo roster rejected: {problems!r}")
        import_roster(session, valid)
    with sessions() as session:
        chair = get_member_by_employee_no(session, DEMO_CADRE_NO)
        workshop = find_unit(session, "厂工会/一车间")
        assert workshop.id is not None
        for category, title, body in _DEMO_NOTICES:
            draft = NoticeDraft(
                title=title, body=body, category=category, target=Target(TargetKind.UNITS, (workshop.id,))
            )
            create_notice(session, actor=chair, draft=draft, now=utcnow())
        now = utcnow()
        # 14:00 a week on and 18:00 two days before, in Shanghai (the default zone): times a union sets.
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        match = ActivityDraft(
            title="一车间职工篮球赛",
            description="三人制篮球赛，以班组为单位组队，每队 3 至 4 人。请穿运动鞋，自带水杯。",
            place="职工之家体育馆",
            starts_at=day + timedelta(days=7, hours=6),
            signup_deadline=day + timedelta(days=5, hours=10),
            capacity=12,
            unit_ids=(workshop.id,),
        )
        activity = create_activity(session, actor=chair, draft=match, now=now)
        assert activity.id is not None
        for employee_no in ("2102", "2201"):
            player = get_member_by_employee_no(session, employee_no)
            sign_up(session, actor=player, activity_id=activity.id, now=now)
    _seed_suggestions(sessions, policy or SuggestionPolicy())
    return True
