"""The demo union behind ``make demo``: a small plant union to try the bot on.

厂工会 with three units (一车间, 二车间, 运输大队), two or three 班组 each and
41 members, loaded through the same roster import an admin uses, so the demo
also shows that a roster imports cleanly. The people are the core's; each
feature module then adds its own examples to them (``Module.demo``): the chair
of 一车间 has sent her members a notice and a 厂务公开 post and set out a
basketball match two have signed up for, and members of 一车间 have handed in
suggestions at every stage. Names are realistic, including the ones real rosters
have and software often gets wrong: compound surnames (欧阳, 司马), a Uyghur name
with the middle dot, rare characters (喆, 堃).
"""

from __future__ import annotations

from sqlmodel import col, select

from handlers import modules
from handlers.core.context import CoreConfig
from handlers.core.module import Registry
from models.base import utcnow
from models.db import SessionFactory
from models.members import Member
from models.roster import RosterRow, import_roster, validate_rows

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


def seed_demo(
    sessions: SessionFactory, config: CoreConfig | None = None, registry: Registry | None = None
) -> bool:
    """Load the demo union unless it is already there: its people, then each module's examples.

    All in one transaction, so a module whose examples fail leaves no half demo behind that a
    second run would take for a whole one.

    Args:
        sessions: the database.
        config: the union's configuration, whose policies the examples follow (its categories);
            the defaults when not given.
        registry: whose modules add examples, in its order; the bot's own when not given.

    Returns:
        True when this call loaded it; False when its people were already in
        the database (running ``make demo`` again keeps what was tried before).
    """
    config = config if config is not None else CoreConfig()
    registry = registry if registry is not None else modules.REGISTRY
    with sessions() as session:
        demo_people = col(Member.employee_no).in_([DEMO_ADMIN_NO, DEMO_CADRE_NO, DEMO_MEMBER_NO])
        if session.exec(select(Member.id).where(demo_people)).first() is not None:
            return False
        valid, problems = validate_rows(demo_roster())
        if problems:
            # The demo roster is ours: a row the import refuses is a bug here, not user input.
            raise RuntimeError(f"demo roster rejected: {problems!r}")
        import_roster(session, valid)
        now = utcnow()
        for module in registry.modules:
            if module.demo is not None:
                module.demo(session, config, now)
    return True
