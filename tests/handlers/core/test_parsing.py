"""The forgiving readers: what members type, what it means, and what it must not mean."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest

from handlers.core import parsing
from handlers.core.parsing import (
    MAX_CLUSTER_CODE_POINTS,
    MAX_PARSE_LENGTH,
    chinese_numeral,
    control_characters,
    normalise,
    parse_date,
    parse_index,
    parse_number,
    parse_yes_no,
    text_length,
)

TODAY = date(2026, 5, 10)

LONG = 5000
HOSTILE = [
    "",
    " ",
    "\u3000\t\n ",
    "1" * LONG,
    "1" * LONG + "x",
    "一" * LONG,
    "十" * LONG,
    "1," * (LONG // 2),
    "1 " * (LONG // 2),
    "1,000" * (LONG // 5),
    "." * LONG,
    "1." * (LONG // 2),
    "第" * LONG,
    "(" * LONG + "1" + ")" * LONG,
    "2026-" * (LONG // 5),
    "1月" * (LONG // 2),
    "👍" * LONG,
    "\u200d" * LONG,
    "👨\u200d" * (LONG // 2),
    "\u0301" * LONG,
    "\U0001f1e8" * LONG,
    "\x00" * LONG,
    "\u202e" * LONG,
    "好" * LONG,
    "不" * LONG,
    "A" * LONG,
]

Parser = Callable[[str], object]
PARSERS: list[Parser] = [
    parse_index,
    parse_number,
    parse_yes_no,
    chinese_numeral,
    lambda text: parse_date(text, today=TODAY),
]
ALL_FUNCTIONS: list[Parser] = [*PARSERS, normalise, control_characters, text_length]

SQL = "1; DROP TABLE member"
HTML = "<b>1</b>"


# ------------------------------------------------------------------ normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１２３", "123"),
        ("ＡＢ", "ab"),
        ("Ok", "ok"),
        ("  取消  ", "取消"),
        ("a\u3000b", "a b"),
        ("a \t\n  b", "a b"),
        ("\r\n菜单\r\n", "菜单"),
        ("①", "1"),
        ("（1）", "(1)"),
        ("取消\u200b", "取消"),
        ("\ufeff菜单", "菜单"),
        ("a\u200b b", "a b"),
        ("Straße", "strasse"),
        ("简体中文", "简体中文"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),
        ("", ""),
        ("   ", ""),
        ("\u3000", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_normalise_is_idempotent() -> None:
    for text in ["  ＡＢ\u3000１２３ ", "Ｏｋ\n\nＸ", "取消\u200b", "好的！"]:
        assert normalise(normalise(text)) == normalise(text)


# ------------------------------------------------------------ chinese_numeral


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("零", 0),
        ("〇", 0),
        ("一", 1),
        ("两", 2),
        ("九", 9),
        ("十", 10),
        ("十一", 11),
        ("一十一", 11),
        ("十九", 19),
        ("二十", 20),
        ("二十三", 23),
        ("九十九", 99),
        ("一百", 100),
        ("一百零五", 105),
        ("一百〇五", 105),
        ("一百一十", 110),
        ("一百一十五", 115),
        ("一百五", 150),
        ("两百", 200),
        ("一千", 1000),
        ("一千零五", 1005),
        ("一千零十", 1010),
        ("一千零五十", 1050),
        ("两千", 2000),
        ("两千五", 2500),
        ("三千五百", 3500),
        ("九千九百九十九", 9999),
        ("一万", 10000),
        ("一万零一", 10001),
        ("三万五", 35000),
        ("三万五千", 35000),
        ("三万零五百", 30500),
        ("十万", 100000),
        ("十五万", 150000),
        ("一百万", 1000000),
        ("一千万", 10000000),
        ("九千九百九十九万九千九百九十九", 99999999),
        ("壹", 1),
        ("拾", 10),
        ("壹佰", 100),
        ("贰仟", 2000),
        ("壹万贰仟叁佰肆拾伍", 12345),
        ("玖仟玖佰玖拾玖", 9999),
        ("陆拾柒", 67),
        ("捌佰零伍", 805),
        ("貳拾", 20),
        ("參萬", 30000),
        (" 十一 ", 11),
    ],
)
def test_chinese_numeral(text: str, expected: int) -> None:
    assert chinese_numeral(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "一二",
        "二〇二六",
        "零五",
        "零零",
        "十十",
        "百",
        "千",
        "万",
        "万一",
        "一百十",
        "一百零",
        "十百",
        "一万万",
        "一万二萬",
        "零万",
        "三万零",
        "一亿",
        "11",
        "十1",
        "一个",
        "十一月",
        "abc",
        "👍",
        "十\u200b一",
    ],
)
def test_chinese_numeral_refuses(text: str) -> None:
    assert chinese_numeral(text) is None


def test_every_value_up_to_ten_thousand_round_trips() -> None:
    """Spell 0..10000 the standard way and read it back."""
    digits = "零一二三四五六七八九"

    def spell(n: int) -> str:
        if n < 10:
            return digits[n]
        if n < 20:
            return "十" + (digits[n % 10] if n % 10 else "")
        parts: list[str] = []
        zero = False
        for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = n // unit % 10
            if d:
                if zero and parts:
                    parts.append("零")
                parts.append(digits[d] + name)
                zero = False
            else:
                zero = True
        return "".join(parts)

    for n in range(10000):
        assert chinese_numeral(spell(n)) == n, spell(n)
    assert chinese_numeral("一万") == 10000


# ---------------------------------------------------------------- parse_index


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        (" 1 ", 1),
        ("\t2\n", 2),
        ("１", 1),
        ("１２", 12),
        ("1.", 1),
        ("1。", 1),
        ("1、", 1),
        ("1)", 1),
        ("(1)", 1),
        ("（1）", 1),
        ("（１）", 1),
        ("(1).", 1),
        ("[3]", 3),
        ("【3】", 3),
        ("①", 1),
        ("⑤", 5),
        ("⑩", 10),
        ("⑳", 20),
        ("⑴", 1),
        ("⒈", 1),
        ("❶", 1),
        ("一", 1),
        ("二", 2),
        ("两", 2),
        ("十", 10),
        ("十二", 12),
        ("第一个", 1),
        ("第1个", 1),
        ("第 1 个", 1),
        ("第一项", 1),
        ("第二條", 2),
        ("第三", 3),
        ("第１个", 1),
        ("选1", 1),
        ("选 2", 2),
        ("选择一", 1),
        ("选第二个", 2),
        ("我选3", 3),
        ("選擇二", 2),
        ("01", 1),
        ("0", 0),
        ("零", 0),
        ("第零个", 0),
        ("99", 99),
        ("123456789", 123456789),
        ("1\u200b", 1),
    ],
)
def test_parse_index(text: str, expected: int) -> None:
    assert parse_index(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\u3000",
        "-1",
        "+1",
        "1.5",
        "1 2",
        "1,2",
        "12a",
        "a",
        "第",
        "选",
        "选择",
        "第个",
        "一个",
        "一二",
        "1234567890",
        "13800138000",
        SQL,
        HTML,
        "1 OR 1=1",
        "<script>1</script>",
        "1👍",
        "👍",
        "取消",
        "返回",
        "简体中文",
        "½",
        "(1",
        "1e3",
        "NaN",
    ],
)
def test_parse_index_refuses(text: str) -> None:
    assert parse_index(text) is None


# --------------------------------------------------------------- parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", "12"),
        ("0", "0"),
        (" 12 ", "12"),
        ("１２", "12"),
        ("１２.５", "12.5"),
        ("１２．５", "12.5"),
        ("12.50", "12.50"),
        (".5", "0.5"),
        ("12,000", "12000"),
        ("12，000", "12000"),
        ("1,234,567.89", "1234567.89"),
        ("12 000", "12000"),
        ("12\u3000000", "12000"),
        ("1 000 000", "1000000"),
        ("-3", "-3"),
        ("−3", "-3"),
        ("- 3", "-3"),
        ("+3", "3"),
        ("负三", "-3"),
        ("-0", "0"),
        ("12。5", "12.5"),
        ("12。", "12"),
        ("12!", "12"),
        ("3.5万", "35000"),
        ("3万", "30000"),
        ("0.50万", "5000"),
        ("2千", "2000"),
        ("5百", "500"),
        ("1.2亿", "120000000"),
        ("3百万", "3000000"),
        ("1,200万", "12000000"),
        ("-3万", "-30000"),
        ("一百二十", "120"),
        ("两千", "2000"),
        ("三万五千", "35000"),
        ("十二点五", "12.5"),
        ("三点五万", "35000"),
        ("零点五", "0.5"),
        ("12点5", "12.5"),
        ("一亿", "100000000"),
        ("12元", "12"),
        ("12 元", "12"),
        ("12块", "12"),
        ("12块钱", "12"),
        ("12.5元", "12.5"),
        ("3.5万元", "35000"),
        ("一百二十元", "120"),
        ("¥12", "12"),
        ("￥12", "12"),
        ("RMB 12", "12"),
        ("3天", "3"),
        ("8小时", "8"),
        ("8个小时", "8"),
        ("60公斤", "60"),
        ("3千克", "3"),
        ("5个", "5"),
        ("30岁", "30"),
        ("1" * MAX_PARSE_LENGTH, "1" * MAX_PARSE_LENGTH),
    ],
)
def test_parse_number(text: str, expected: str) -> None:
    value = parse_number(text)
    assert value == Decimal(expected)
    assert value is not None
    assert value.is_finite()


def test_parse_number_writes_multiplied_values_out_plainly() -> None:
    assert str(parse_number("3.5万")) == "35000"
    assert str(parse_number("12.50")) == "12.50"
    assert str(parse_number("-0")) == "0"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\u3000",
        "元",
        "万",
        "-",
        "+",
        "--3",
        "+-3",
        ".",
        "1.2.3",
        "1,2",
        "12,00",
        "1,2345",
        "12 00",
        "1 2",
        "12元5角",
        "1e5",
        "1E5",
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "1_000",
        "0x10",
        "٣",
        "一二",
        "十二点",
        "点五",
        "十二点两",
        "12%",
        "abc",
        "12abc",
        "about 12",
        SQL,
        HTML,
        "1 OR 1=1",
        "👍",
        "12👍",
        "1" * (MAX_PARSE_LENGTH + 1),
    ],
)
def test_parse_number_refuses(text: str) -> None:
    assert parse_number(text) is None


# -------------------------------------------------------------- parse_yes_no


@pytest.mark.parametrize(
    "text",
    [
        "是",
        "是的",
        "对",
        "对的",
        "對",
        "好",
        "好的",
        "好啊",
        "好吧",
        "可以",
        "行",
        "确认",
        "確認",
        "确定",
        "同意",
        "嗯",
        "嗯嗯",
        "恩",
        "要",
        "需要",
        "没问题",
        "y",
        "Y",
        "yes",
        "YES",
        "Yes!",
        "ok",
        "OK",
        "ＯＫ",
        "okay",
        "1",
        "１",
        "1.",
        "(1)",
        "好的！",
        "好的!!!",
        "是。",
        "是的～",
        " 好的 ",
        "是 的",
        "对对对",
        "好的好的",
        "好的，谢谢",
        "好的，谢谢！",
        "ok thanks",
        "好的👍",
        "好的👍🏽",
        "👍好的",
        "好的\u200b",
        "“是”",
        "「好的」",
        # the first button's number as lists are answered (issue #14: 一 worked at the menu only)
        "一",
        "壹",
        "①",
        "一。",
        "第一个",
        "选1",
        "（一）",
    ],
)
def test_parse_yes_no_yes(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "否",
        "不",
        "不不不",
        "不是",
        "不是的",
        "不对",
        "不要",
        "不用",
        "不用了",
        "不用了，谢谢",
        "不需要",
        "不了",
        "不行",
        "不同意",
        "没有",
        "沒有",
        "n",
        "N",
        "no",
        "No.",
        "NO!",
        "nope",
        "2",
        "２",
        "不。",
        "不要！",
        "二",
        "两",
        "贰",
        "②",
        "第二个",
        "选择二",
    ],
)
def test_parse_yes_no_no(text: str) -> None:
    assert parse_yes_no(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\u3000",
        "取消",
        "取消。",
        "算了",
        "不办了",
        "退出",
        "返回",
        "菜单",
        "不确定",
        "不知道",
        "是不是",
        "要不要",
        "好不好",
        "也许",
        "谢谢",
        "3",
        "0",
        "11",
        "12",
        "三",
        "零",
        "十",
        "一二",
        "第三个",
        "yes no",
        "yesterday",
        "okay then maybe",
        "👍",
        "。",
        SQL,
        HTML,
        "1 OR 1=1",
        "<script>alert(1)</script>",
        "{{1}}",
        "${1}",
        "-1",
        "1-",
        "#1",
        "=1",
        "`1`",
        "^1^",
    ],
)
def test_parse_yes_no_neither(text: str) -> None:
    assert parse_yes_no(text) is None


# ---------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23", date(2026, 11, 23)),
        ("2026/11/23", date(2026, 11, 23)),
        ("2026.11.23", date(2026, 11, 23)),
        ("2026。11。23", date(2026, 11, 23)),
        ("2026-1-5", date(2026, 1, 5)),
        ("2026 11 23", date(2026, 11, 23)),
        (" 2026 - 11 - 23 ", date(2026, 11, 23)),
        ("20261123", date(2026, 11, 23)),
        ("2026年11月23日", date(2026, 11, 23)),
        ("2026年11月23号", date(2026, 11, 23)),
        ("2026年11月23", date(2026, 11, 23)),
        ("2026 年 11 月 23 日", date(2026, 11, 23)),
        ("26年11月23日", date(2026, 11, 23)),
        ("２０２６－１１－２３", date(2026, 11, 23)),
        ("２０２６年１１月２３日", date(2026, 11, 23)),
        ("2027-01-01", date(2027, 1, 1)),
        ("2024-02-29", date(2024, 2, 29)),
        ("2026-11-23。", date(2026, 11, 23)),
        ("11月23日", date(2026, 11, 23)),
        ("11月23号", date(2026, 11, 23)),
        ("11月23", date(2026, 11, 23)),
        ("1月5日", date(2026, 1, 5)),
        ("11-23", date(2026, 11, 23)),
        ("11/23", date(2026, 11, 23)),
        ("11.23", date(2026, 11, 23)),
        ("１１/２３", date(2026, 11, 23)),
        ("23号", date(2026, 5, 23)),
        ("1日", date(2026, 5, 1)),
        ("今天", TODAY),
        ("今日", TODAY),
        ("明天", date(2026, 5, 11)),
        ("后天", date(2026, 5, 12)),
        ("後天", date(2026, 5, 12)),
        ("大后天", date(2026, 5, 13)),
        ("昨天", date(2026, 5, 9)),
        ("前天", date(2026, 5, 8)),
        ("大前天", date(2026, 5, 7)),
        ("明天！", date(2026, 5, 11)),
        ("Tomorrow", date(2026, 5, 11)),
        ("十一月二十三日", date(2026, 11, 23)),
        ("十二月三十一号", date(2026, 12, 31)),
        ("一月一日", date(2026, 1, 1)),
        ("二〇二六年十一月二十三日", date(2026, 11, 23)),
        ("二零二七年一月五日", date(2027, 1, 5)),
        ("二十三号", date(2026, 5, 23)),
        ("下周一", date(2026, 5, 11)),
        ("周五", date(2026, 5, 8)),
        ("明年5月1日", date(2027, 5, 1)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\u3000",
        "2026-02-30",
        "2026-13-01",
        "2026-00-10",
        "2026-11-00",
        "2026-11-32",
        "2025-02-29",
        "2月29日",
        "2月30日",
        "13月1日",
        "20260230",
        "0000-01-01",
        "〇〇〇〇年一月一日",
        "2026-11",
        "2026年11月",
        "2026",
        "11",
        "23",
        "23/11/2026",
        "11-23-2026",
        "2026-11-23 10:00",
        "2026-11-23T10:00",
        "202611231",
        "1123",
        "十三月一日",
        "一二月一日",
        "明天后天",
        "下周",
        "garbage",
        "2026-11-23; DROP TABLE member",
        "<b>2026-11-23</b>",
        "👍",
    ],
)
def test_parse_date_refuses(text: str) -> None:
    assert parse_date(text, today=TODAY) is None


def test_parse_date_uses_todays_year_and_month_without_guessing() -> None:
    december = date(2026, 12, 20)
    assert parse_date("1月5日", today=december) == date(2026, 1, 5)
    assert parse_date("5号", today=december) == date(2026, 12, 5)
    assert parse_date("2月29日", today=date(2028, 1, 1)) == date(2028, 2, 29)


def test_parse_date_relative_words_cross_month_and_year() -> None:
    assert parse_date("明天", today=date(2026, 12, 31)) == date(2027, 1, 1)
    assert parse_date("昨天", today=date(2026, 3, 1)) == date(2026, 2, 28)


def test_parse_date_at_the_ends_of_the_calendar_gives_none() -> None:
    assert parse_date("明天", today=date.max) is None
    assert parse_date("昨天", today=date.min) is None


def test_parse_date_takes_a_datetime_as_its_date() -> None:
    now = datetime(2026, 5, 10, 23, 59)  # noqa: DTZ001 - a local wall-clock time on purpose
    result = parse_date("明天", today=now)
    assert result == date(2026, 5, 11)
    assert type(result) is date


# Clocks at the year's end: Sunday 20 December 2026, Thursday 31 December 2026 (the year's and the
# month's last day), and Sunday 31 January 2027 (a month's last day before a short February).
DECEMBER = date(2026, 12, 20)
NEW_YEARS_EVE = date(2026, 12, 31)
JANUARY_END = date(2027, 1, 31)


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        # A month and day without a year: the next such day, today included.
        (DECEMBER, "1月10号", date(2027, 1, 10)),
        (DECEMBER, "1月10日", date(2027, 1, 10)),
        (DECEMBER, "一月十日", date(2027, 1, 10)),
        (DECEMBER, "1-10", date(2027, 1, 10)),
        (DECEMBER, "12月25日", date(2026, 12, 25)),
        (DECEMBER, "12月20日", DECEMBER),
        (DECEMBER, "12月19日", date(2027, 12, 19)),
        (DECEMBER, "2月29日", date(2028, 2, 29)),
        (NEW_YEARS_EVE, "1月1日", date(2027, 1, 1)),
        (NEW_YEARS_EVE, "12月31日", NEW_YEARS_EVE),
        # A year said is the year meant, past or not.
        (DECEMBER, "2027年1月10日", date(2027, 1, 10)),
        (DECEMBER, "2026年1月10日", date(2026, 1, 10)),
        (DECEMBER, "明年5月1日", date(2027, 5, 1)),
        (DECEMBER, "今年5月1日", date(2026, 5, 1)),
        (DECEMBER, "后年1月1日", date(2028, 1, 1)),
        (NEW_YEARS_EVE, "明年5月1日", date(2027, 5, 1)),
        # A day of the month: this month's, or next month's once past (the first month that has it).
        (DECEMBER, "23号", date(2026, 12, 23)),
        (DECEMBER, "20号", DECEMBER),
        (DECEMBER, "5号", date(2027, 1, 5)),
        (NEW_YEARS_EVE, "31号", NEW_YEARS_EVE),
        (NEW_YEARS_EVE, "30号", date(2027, 1, 30)),
        (JANUARY_END, "30号", date(2027, 3, 30)),
        (DECEMBER, "下个月5号", date(2027, 1, 5)),
        (DECEMBER, "下月5日", date(2027, 1, 5)),
        (DECEMBER, "本月25号", date(2026, 12, 25)),
        (DECEMBER, "这个月5号", date(2026, 12, 5)),
        # A weekday: the coming one (today's counts); with 这/下/上 the week said (weeks start on Monday).
        (DECEMBER, "周五", date(2026, 12, 25)),
        (DECEMBER, "星期五", date(2026, 12, 25)),
        (DECEMBER, "礼拜五", date(2026, 12, 25)),
        (DECEMBER, "週五", date(2026, 12, 25)),
        (DECEMBER, "周日", DECEMBER),
        (DECEMBER, "星期天", DECEMBER),
        (DECEMBER, "周一", date(2026, 12, 21)),
        (DECEMBER, "下周六", date(2026, 12, 26)),
        (DECEMBER, "下个星期六", date(2026, 12, 26)),
        (DECEMBER, "下礼拜一", date(2026, 12, 21)),
        (DECEMBER, "下下周一", date(2026, 12, 28)),
        (DECEMBER, "这周一", date(2026, 12, 14)),
        (DECEMBER, "本周六", date(2026, 12, 19)),
        (DECEMBER, "上周五", date(2026, 12, 11)),
        (NEW_YEARS_EVE, "周五", date(2027, 1, 1)),
        (NEW_YEARS_EVE, "周四", NEW_YEARS_EVE),
        (NEW_YEARS_EVE, "下周一", date(2027, 1, 4)),
        (NEW_YEARS_EVE, "这周一", date(2026, 12, 28)),
        # The ends of a month and a year; on the last day, that day itself.
        (DECEMBER, "月底", date(2026, 12, 31)),
        (DECEMBER, "月末", date(2026, 12, 31)),
        (DECEMBER, "本月底", date(2026, 12, 31)),
        (DECEMBER, "下个月底", date(2027, 1, 31)),
        (DECEMBER, "年底", date(2026, 12, 31)),
        (DECEMBER, "今年年底", date(2026, 12, 31)),
        (NEW_YEARS_EVE, "月底", NEW_YEARS_EVE),
        (NEW_YEARS_EVE, "年底", NEW_YEARS_EVE),
        (NEW_YEARS_EVE, "下月底", date(2027, 1, 31)),
        (JANUARY_END, "月底", JANUARY_END),
        (JANUARY_END, "下个月底", date(2027, 2, 28)),
        # Days from today, across the year's end.
        (DECEMBER, "后天", date(2026, 12, 22)),
        (NEW_YEARS_EVE, "明天", date(2027, 1, 1)),
        (NEW_YEARS_EVE, "大后天", date(2027, 1, 3)),
        # The weekday the bot prints after a date reads back, and must be that date's.
        (DECEMBER, "2027年1月10日（周日）", date(2027, 1, 10)),
        (DECEMBER, "1月10日 周日", date(2027, 1, 10)),
        (DECEMBER, "明天(周一)", date(2026, 12, 21)),
        (DECEMBER, "2027年1月10日（周六）", None),
        (DECEMBER, "1月10日星期一", None),
        # Not dates.
        (DECEMBER, "下周", None),
        (DECEMBER, "下个月", None),
        (DECEMBER, "周八", None),
        (DECEMBER, "下下下周一", None),
        (DECEMBER, "月", None),
        (DECEMBER, "底", None),
        (DECEMBER, "周五周六", None),
        (DECEMBER, "2月30日", None),
        (DECEMBER, "32号", None),
    ],
)
def test_parse_date_ahead_reads_the_next_such_day(today: date, text: str, expected: date | None) -> None:
    assert parse_date(text, today=today, ahead=True) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1月10号", date(2026, 1, 10)),
        ("5号", date(2026, 12, 5)),
        ("周五", date(2026, 12, 18)),
        ("周一", date(2026, 12, 14)),
        ("下周六", date(2026, 12, 26)),
        ("月底", date(2026, 12, 31)),
        ("明年5月1日", date(2027, 5, 1)),
        ("2月29日", None),
    ],
)
def test_parse_date_not_ahead_keeps_this_year_month_and_week(text: str, expected: date | None) -> None:
    """A day something happened on ("哪天开始实施的？") is this year's, this month's, this week's."""
    assert parse_date(text, today=DECEMBER) == expected


@pytest.mark.parametrize("text", [*HOSTILE, SQL, HTML, "下" * LONG, "周" * LONG, "下周" * (LONG // 2)])
def test_parse_date_ahead_refuses_hostile_input_quickly(text: str) -> None:
    started = time.perf_counter()
    assert parse_date(text, today=DECEMBER, ahead=True) is None
    assert parse_date(text, today=date.max, ahead=True) is None
    assert time.perf_counter() - started < 0.5


def test_parse_date_ahead_at_the_ends_of_the_calendar_gives_none() -> None:
    assert parse_date("1月1日", today=date.max, ahead=True) is None
    assert parse_date("5号", today=date.max, ahead=True) is None
    assert parse_date("下周一", today=date.max, ahead=True) is None
    assert parse_date("下个月底", today=date.max, ahead=True) is None
    assert parse_date("上周一", today=date.min, ahead=True) is None
    assert parse_date("明年5月1日", today=date.max) is None


# ---------------------------------------------------------- control_characters

SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("普通的一句话", []),
        ("line one\nline two\r\n\tindented", []),
        ("👨\u200d👩\u200d👧 family", []),
        ("👍🏽 ❤️ 1️⃣ 🇨🇳", []),
        (SCOTLAND, []),
        ("e\u0301", []),
        ("\x00", ["\x00"]),
        ("a\x07b\x1bc\x7f", ["\x07", "\x1b", "\x7f"]),
        ("\x85", ["\x85"]),
        ("invoice\u202efdp.exe", ["\u202e"]),
        ("\u202a\u202b\u202c\u202d", ["\u202a", "\u202b", "\u202c", "\u202d"]),
        ("\u2066\u2067\u2068\u2069", ["\u2066", "\u2067", "\u2068", "\u2069"]),
        ("\u200e\u200f", ["\u200e", "\u200f"]),
        ("zero\u200bwidth", ["\u200b"]),
        ("non\u200cjoiner", ["\u200c"]),
        ("\ufeffbom", ["\ufeff"]),
        ("soft\u00adhyphen", ["\u00ad"]),
        ("word\u2060joiner", ["\u2060"]),
        ("\u200b\u200b\x00\u200b", ["\u200b", "\x00"]),
        ("lone \ud800 surrogate", ["\ud800"]),
        ("hidden\U000e0041\U000e0042", ["\U000e0041", "\U000e0042"]),
        ("\U0001f3f4" + "\U000e0061" * 20 + "\U000e007f", ["\U000e0061", "\U000e007f"]),
        ("\U0001f3f4\U000e0067\U000e0062", ["\U000e0067", "\U000e0062"]),
        ("\U0001f3f4\U000e007f", ["\U000e007f"]),
    ],
)
def test_control_characters(text: str, expected: list[str]) -> None:
    assert control_characters(text) == expected


def test_control_characters_lists_each_once_on_long_text() -> None:
    text = ("正常文字\u200b" * LONG) + "\x00"
    assert control_characters(text) == ["\u200b", "\x00"]


# ------------------------------------------------------------------ text_length


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 1),
        ("abc", 3),
        ("中文字", 3),
        ("１２３", 3),
        (" ", 1),
        ("a\nb", 3),
        ("a\r\nb", 3),
        ("👍", 1),
        ("👍👍👍", 3),
        ("👍🏽", 1),
        ("❤️", 1),
        ("1️⃣", 1),
        ("🇨🇳", 1),
        ("🇨🇳🇭🇰", 2),
        ("🇨🇳🇭", 2),
        ("👨\u200d👩\u200d👧\u200d👦", 1),
        ("👩🏽\u200d💻", 1),
        ("🏳️\u200d🌈", 1),
        ("\U0001f469\U0001f3fb\u200d\u2764\ufe0f\u200d\U0001f48b\u200d\U0001f468\U0001f3fc", 1),
        (SCOTLAND, 1),
        ("e\u0301", 1),
        ("我👍你", 3),
        ("a\u200db", 2),
        ("\u200d", 1),
        ("\u0301", 1),
        ("\U0001f3fb", 1),
    ],
)
def test_text_length(text: str, expected: int) -> None:
    assert text_length(text) == expected


def test_text_length_caps_what_one_character_can_hide() -> None:
    """Thousands of joined emoji or stacked accents must not count as one character."""
    chain = "👨" + "\u200d👨" * LONG
    assert text_length(chain) >= len(chain) // MAX_CLUSTER_CODE_POINTS
    zalgo = "a" + "\u0301" * LONG
    assert text_length(zalgo) >= len(zalgo) // MAX_CLUSTER_CODE_POINTS


def test_text_length_of_long_plain_text() -> None:
    assert text_length("字" * LONG) == LONG
    assert text_length("👍" * LONG) == LONG


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("text", HOSTILE, ids=lambda text: f"{text[:6]!r}x{len(text)}")
def test_hostile_input_is_not_a_value(text: str) -> None:
    assert parse_index(text) is None
    assert parse_number(text) is None
    assert parse_yes_no(text) is None
    assert chinese_numeral(text) is None
    assert parse_date(text, today=TODAY) is None


def test_padding_is_forgiven_however_long() -> None:
    padded = " " * LONG + "1" + "\u3000" * LONG
    assert parse_index(padded) == 1
    assert parse_number(padded) == 1
    assert parse_yes_no(padded) is True


@pytest.mark.parametrize(
    "text", [*HOSTILE, " " * LONG + "1" + " " * LONG], ids=lambda text: f"{text[:6]!r}x{len(text)}"
)
def test_hostile_input_is_fast(text: str) -> None:
    started = time.perf_counter()
    for function in ALL_FUNCTIONS:
        function(text)
    assert time.perf_counter() - started < 0.5


def test_every_pattern_is_linear_even_without_the_length_guard() -> None:
    """Run each module regex on near-misses far longer than any answer."""
    patterns = [value for value in vars(parsing).values() if isinstance(value, re.Pattern)]
    assert patterns
    near_misses = [
        "1" * LONG + "x",
        "1," * LONG + "x",
        "1 " * LONG + "x",
        "123," * LONG + "1",
        "1.1" * LONG,
        "2026-" * LONG,
        "十" * LONG + "x",
        "〇" * LONG,
        "1。" * LONG,
    ]
    started = time.perf_counter()
    for pattern in patterns:
        for text in near_misses:
            pattern.fullmatch(text)
            pattern.search(text)
    assert time.perf_counter() - started < 2


def test_nothing_raises_on_random_input() -> None:
    rng = random.Random(20261123)
    alphabet = (
        "0123456789１２３一二两十百千万萬零〇壹拾点點.,，、。 　-−+()（）【】第个项选择元块年月日号/"
        "是否不好的对嗯谢👍🏽🇨\u200d\u200b\u202e\ufeff\x00\n\r\t\u0301\ufe0f\ud800\U000e0067\U0001f3f4"
        "abcnoyesOKe<>;'\"%#"
    )
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        for function in ALL_FUNCTIONS:
            function(text)
        parse_date(text, today=date.max)
        parse_date(text, today=date.min)


@pytest.mark.parametrize("text", [SQL, HTML, "1 OR 1=1", "1' --", "<img src=x onerror=1>", "{{1}}", "${1}"])
def test_injection_shaped_text_is_no_number(text: str) -> None:
    assert parse_index(text) is None
    assert parse_number(text) is None
    assert parse_yes_no(text) is None
    assert parse_date(text, today=TODAY) is None
    assert chinese_numeral(text) is None
