"""Forgiving readers for what members type: numbers, choices, yes/no, dates.

Members answer from phones in whatever their input method produces: full-width
digits (１２), Chinese numerals (一百零五, 两千), "1、" and "（1）" from lists,
"好的！" with trailing punctuation, "明天" for a date. Asking again because of
such noise makes a form feel broken, so these functions accept everything a
person plausibly means and nothing else.

Design rules, kept by every function here:

* Pure: no I/O, no clock (today's date is passed in), no translation. Callers
  word their own messages.
* ``None`` means "not understood"; the functions never raise on any ``str``.
  Range checks (is 0 a valid choice? is -3 allowed? is the date in the past?)
  belong to the caller, which knows the question.
* Every regular expression is anchored and has no ambiguous (overlapping)
  repetition, and inputs longer than :data:`MAX_PARSE_LENGTH` are rejected
  before any pattern runs, so hostile input costs linear time.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal

# How many characters a member counts is one rule, kept beside the models that check limits again
# (models.base.character_starts): a form must never accept a text its model counts as longer.
from models.base import MAX_CLUSTER_CODE_POINTS
from models.base import visible_length as text_length

__all__ = [
    "MAX_CLUSTER_CODE_POINTS",
    "MAX_PARSE_LENGTH",
    "chinese_numeral",
    "control_characters",
    "normalise",
    "parse_date",
    "parse_id",
    "parse_index",
    "parse_number",
    "parse_yes_no",
    "text_length",
]

MAX_PARSE_LENGTH = 64
"""Longest normalised answer the ``parse_*`` functions try to read.

No index, amount, date or yes/no a member means is longer; anything longer is
``None`` at once, which also bounds the work done on pasted essays.
"""

_ZWJ = "\u200d"
_BLACK_FLAG = 0x1F3F4
_TAG_FIRST, _TAG_CANCEL = 0xE0020, 0xE007F
_MAX_TAG_RUN = 8  # RGI subdivision flags use 5 tag letters and a cancel tag

# --------------------------------------------------------------------------- text


def _drop_invisible(text: str) -> str:
    """Remove control and format characters except the emoji joiner (ZWJ)."""
    return "".join(ch for ch in text if ch == _ZWJ or unicodedata.category(ch) not in ("Cc", "Cf"))


def normalise(text: str) -> str:
    """Fold a member's text so it compares equal to what they meant.

    Used to match typed answers against option labels and command words:
    "ＯＫ", " ok " and "Ok" must all find the same option.

    Steps: NFKC (full-width "１２３"/"ＡＢ"/ideographic space to ASCII, "①" to
    "1"), removal of invisible control and format characters (a zero-width
    space pasted from a web page must not make "取消" unrecognisable; the emoji
    ZWJ is kept), trimming, collapsing every run of whitespace (including
    newlines) to one space, and casefolding.

    Args:
        text: what the member typed.

    Returns:
        The folded text; only ever compare it, never store or show it.
    """
    folded = " ".join(unicodedata.normalize("NFKC", text).split())
    return " ".join(_drop_invisible(folded).split()).casefold()


def _prepare(text: str) -> str | None:
    """Normalised text for the parsers, or None when too long to be an answer."""
    folded = normalise(text)
    return folded if len(folded) <= MAX_PARSE_LENGTH else None


_SENTENCE_END = ".。!?~,;、"


def _trim_sentence_end(text: str) -> str:
    """Drop the full stops and exclamation marks people put after an answer."""
    return text.rstrip(_SENTENCE_END + " ")


# Emoji, skin tones, marks, spaces and invisibles; then sentence punctuation, the quotes of
# 回复“是”, and brackets (after NFKC).
_NOISE_CATEGORIES = frozenset({"So", "Mn", "Me", "Zs", "Cc", "Cf", "Cs", "Co", "Cn"})
_WORD_NOISE = frozenset(".。!?~,、;:…'\"“”‘’「」『』()【】")


def _is_skin_tone(ch: str) -> bool:
    return 0x1F3FB <= ord(ch) <= 0x1F3FF


def _is_noise(ch: str) -> bool:
    """Whether ``ch`` is decoration around a word: punctuation above, emoji, spaces, invisibles.

    Code-like symbols ($ { } < > - = #) are not noise, so "${1}" or "1' --"
    stay unreadable instead of passing for "1".
    """
    return ch in _WORD_NOISE or unicodedata.category(ch) in _NOISE_CATEGORIES or _is_skin_tone(ch)


def _trim_noise(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_noise(text[start]):
        start += 1
    while end > start and _is_noise(text[end - 1]):
        end -= 1
    return text[start:end]


# ------------------------------------------------------------------ Chinese numerals

# Index = value; each string lists the everyday, 两 and financial (大写) forms.
_CN_DIGIT_FORMS = ("零〇", "一壹", "二两兩贰貳", "三叁參", "四肆", "五伍", "六陆陸", "七柒", "八捌", "九玖")
_CN_DIGITS: dict[str, int] = {ch: value for value, forms in enumerate(_CN_DIGIT_FORMS) for ch in forms}
_CN_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_MYRIAD = ("万", "萬")
_MAX_NUMERAL_LENGTH = 32  # the longest valid form, 九千九百九十九万九千九百九十九, has 15


def _cn_section(text: str) -> int | None:
    """Read 0-9999 written with 千/百/十 and 零, e.g. 一千零五十, 两千五, 十一."""
    if not text:
        return None
    total = 0
    digit: int | None = None
    last_unit = 10000  # units must come in falling order
    after_zero = False
    for ch in text:
        if ch in _CN_DIGITS:
            value = _CN_DIGITS[ch]
            if digit is not None:
                return None  # 一二: digits side by side are not a numeral
            if value == 0:
                if total == 0 or after_zero:
                    return None  # a leading or doubled 零
                after_zero = True
                continue
            digit = value
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit >= last_unit:
                return None
            if digit is None:
                if unit != 10 or (total and not after_zero):
                    return None  # 百 or 一百十 without its digit
                digit = 1  # 十五, 一千零十
            total += digit * unit
            last_unit, digit, after_zero = unit, None, False
        else:
            return None
    if digit is not None:
        if after_zero or last_unit in (10, 10000):
            total += digit  # 一百零五, 十五, 五
        else:
            total += digit * (last_unit // 10)  # 一百五 = 150, 两千五 = 2500
    elif after_zero:
        return None  # a trailing 零
    return total


def chinese_numeral(text: str) -> int | None:
    """Read a Chinese numeral from 0 to 99,999,999.

    Members write amounts and choices in words as often as in digits. Accepted:
    零/〇, 一..九 with 两 for 2, 十 百 千 万 (十 = 10, 十一, 二十, 一百零五, 两千,
    三万五千), the spoken short forms 一百五 (150), 两千五 (2500) and 三万五
    (35000), and the financial forms 壹贰叁肆伍陆柒捌玖拾佰仟 (traditional 貳參陸萬
    too). Digit-by-digit strings such as 二〇二六 are not numerals here; dates
    read them on their own.

    Args:
        text: the characters to read; surrounding whitespace is ignored.

    Returns:
        The value, or None when ``text`` is not a well-formed numeral
        (e.g. 一二, 十十, 百, 零五, or anything with other characters).
    """
    text = text.strip()
    if not text or len(text) > _MAX_NUMERAL_LENGTH:
        return None
    if text in ("零", "〇"):
        return 0
    for myriad in _CN_MYRIAD:
        if myriad not in text:
            continue
        high_text, _, low_text = text.partition(myriad)
        high = _cn_section(high_text)
        if not high or any(m in low_text for m in _CN_MYRIAD):
            return None
        if not low_text:
            low: int | None = 0
        elif len(low_text) == 1 and _CN_DIGITS.get(low_text, 0) > 0:
            low = _CN_DIGITS[low_text] * 1000  # 三万五 = 35000
        elif low_text[0] in ("零", "〇"):
            low = _cn_section(low_text[1:])
        else:
            low = _cn_section(low_text)
        return None if low is None else high * 10000 + low
    return _cn_section(text)


# --------------------------------------------------------------------------- index

_INDEX_PREFIXES = ("我选择", "我選擇", "我选", "我選", "选择", "選擇", "选", "選")
_ORDINAL_SUFFIXES = ("个", "個", "项", "項", "条", "條", "号", "號", "种", "種", "位")
_BRACKETS = {"(": ")", "[": "]", "【": "】", "〔": "〕", "〖": "〗", "「": "」"}
_MAX_INDEX_DIGITS = 9
_ASCII_DIGITS = re.compile(r"[0-9]+")


def _unwrap(text: str) -> str:
    """(1), [1], 【1】 -> 1; also a lone closing bracket as in "1)"."""
    if len(text) >= 2 and _BRACKETS.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    if text and text[-1] in _BRACKETS.values() and not any(o in text for o in _BRACKETS):
        return text[:-1].strip()
    return text


def _small_number(text: str) -> int | None:
    """Digits (at most nine), one circled-number character, or a Chinese numeral."""
    if _ASCII_DIGITS.fullmatch(text):
        return int(text) if len(text) <= _MAX_INDEX_DIGITS else None
    if len(text) == 1 and unicodedata.category(text) == "No":
        value = unicodedata.numeric(text, -1.0)
        return int(value) if value >= 0 and value == int(value) else None  # ❶, ➊
    return chinese_numeral(text)


MAX_RECORD_ID = 2**31 - 1
"""The largest id a table holds (PostgreSQL's integer): a larger one in a query is an error there."""


def parse_id(text: str) -> int | None:
    """A record's id as a button carries it ("go:notice_read:42"), or None when it cannot be one.

    A button's payload comes back from the member's client, which may send anything: plain
    ASCII digits only, from 1 to :data:`MAX_RECORD_ID`, so that a forged "99999999999"
    finds no record instead of failing the query on PostgreSQL.
    """
    if not _ASCII_DIGITS.fullmatch(text) or len(text) > len(str(MAX_RECORD_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_RECORD_ID else None


def parse_index(text: str) -> int | None:
    """The position a member picks from a numbered list (1-based).

    People answer a list the way it was shown or the way they speak: "1",
    "１", "1.", "1、", "(1)", "（1）", "①".."⑳", "一", "第一个", "第1项",
    "选1", "选择一", "选第二个".

    "0" and "零" return 0 rather than None: they are numbers, so the caller
    can say "no such option, answer 1 to N" instead of "answer with a
    number". Likewise numbers beyond the list are returned for the caller to
    reject. Digit strings longer than nine digits (a phone or 工号 typed in
    the wrong place) return None.

    Because any numeral is read as a position, a caller whose option labels
    are themselves numbers (years, amounts) must match labels first.

    Args:
        text: what the member typed.

    Returns:
        The number (0 or more), or None when ``text`` is not a list choice
        (including negative numbers, decimals, "1 2" and "1; DROP TABLE").
    """
    folded = _prepare(text)
    if not folded:
        return None
    folded = _unwrap(_trim_sentence_end(folded))
    for prefix in _INDEX_PREFIXES:
        if folded.startswith(prefix):
            folded = folded[len(prefix) :].strip()
            break
    if folded.startswith("第"):
        folded = folded[1:].strip()
        for suffix in _ORDINAL_SUFFIXES:
            if folded.endswith(suffix):
                folded = folded[: -len(suffix)].strip()
                break
    if not folded:
        return None
    return _small_number(folded)


# -------------------------------------------------------------------------- number

# Longest first, so 块钱 goes before 块 and 千克 before the 千 multiplier.
# fmt: off
_UNIT_SUFFIXES = tuple(sorted((
    "元", "块", "块钱", "元钱", "圆", "人民币", "rmb", "yuan", "塊", "塊錢", "圓", "人民幣",
    "个", "個", "人", "名", "位", "次", "岁", "歲",
    "天", "日", "周", "週", "年", "月", "个月", "個月",
    "小时", "个小时", "钟头", "分钟", "小時", "個小時", "鐘頭", "分鐘",
    "斤", "公斤", "千克", "kg", "米", "平米", "平方米",
), key=len, reverse=True))
# fmt: on
_CURRENCY_PREFIXES = ("¥", "$", "rmb")
_MULTIPLIERS = (
    ("百万", 6),
    ("千万", 7),
    ("百萬", 6),
    ("千萬", 7),
    ("亿", 8),
    ("億", 8),
    ("万", 4),
    ("萬", 4),
    ("千", 3),
    ("百", 2),
)
_NEGATIVE = ("-", "−", "负", "負")
_PLAIN_NUMBER = re.compile(
    r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
)
_IME_DECIMAL_POINT = re.compile(r"(?<=[0-9])。(?=[0-9])")


def _plain_number(text: str) -> Decimal | None:
    """ASCII digits with optional 3-digit grouping by "," or " " and a decimal point."""
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    return Decimal(text.replace(",", "").replace(" ", ""))


def _chinese_decimal(text: str) -> Decimal | None:
    """十二点五 -> 12.5: a whole part, 点, then digit by digit."""
    whole_text, point, fraction = text.partition("点") if "点" in text else text.partition("點")
    if not point or not fraction:
        return None
    whole = chinese_numeral(whole_text)
    if whole is None:
        whole = int(whole_text) if _ASCII_DIGITS.fullmatch(whole_text) else None
    if whole is None:
        return None
    digits = []
    for ch in fraction:
        if "0" <= ch <= "9":
            digits.append(ch)
        elif ch in _CN_DIGITS and ch not in ("两", "兩"):
            digits.append(str(_CN_DIGITS[ch]))
        else:
            return None
    return Decimal(f"{whole}.{''.join(digits)}")


def _base_number(text: str) -> Decimal | None:
    value = _plain_number(text)
    if value is not None:
        return value
    numeral = chinese_numeral(text)
    if numeral is not None:
        return Decimal(numeral)
    return _chinese_decimal(text)


def _shift(value: Decimal, places: int) -> Decimal:
    """``value`` times 10**places, exact and written out plainly (35000, not 3.5E+4)."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # pragma: no cover - only finite values get here
        return value
    exponent += places
    if exponent >= 0:
        return Decimal((sign, (*digits, *(0,) * exponent), 0))
    return Decimal((sign, digits, exponent))


def _unsigned_number(text: str) -> Decimal | None:
    value = _base_number(text)
    if value is not None:
        return value
    for suffix, places in _MULTIPLIERS:
        if text.endswith(suffix) and len(text) > len(suffix):
            base = _base_number(text[: -len(suffix)].strip())
            if base is not None:
                return _shift(base, places)
    return None


def parse_number(text: str) -> Decimal | None:
    """The number a member typed, as an exact Decimal.

    Accepted: "12", "１２.５", "12,000" and "12 000" (grouping must be in
    threes, so "1,2" is refused rather than guessed), "12。5" (a Chinese input
    method's full stop between digits), ".5", a sign ("-3", "−3", "负三", "+3";
    the sign is kept and the caller checks the range), multipliers on digits
    ("3.5万" = 35000, "2千", "1.2亿", "3百万"), Chinese numerals ("一百二十",
    "三万五千", "十二点五"), a currency sign in front ("¥12") and one unit word
    after ("12元", "12块钱", "3天", "8小时", "60公斤"). Trailing sentence
    punctuation ("12。") is forgiven.

    Refused (None): exponents ("1e5"), "NaN", "Infinity", digits from other
    scripts, several numbers ("1 2", "12元5角"), and anything with other words.

    Args:
        text: what the member typed.

    Returns:
        A finite Decimal keeping the typed precision ("12.50" stays 12.50;
        "-0" becomes 0), or None. Tiny values may print in exponent form, so
        format with ``format(value, "f")`` when showing or storing text.
    """
    folded = _prepare(text)
    if not folded:
        return None
    folded = _IME_DECIMAL_POINT.sub(".", _trim_sentence_end(folded))
    for prefix in _CURRENCY_PREFIXES:
        if folded.startswith(prefix):
            folded = folded[len(prefix) :].strip()
            break
    negative = folded.startswith(_NEGATIVE)
    if negative or folded.startswith("+"):
        folded = folded[1:].strip()
    for suffix in _UNIT_SUFFIXES:
        if folded.endswith(suffix) and len(folded) > len(suffix):
            folded = folded[: -len(suffix)].strip()
            break
    value = _unsigned_number(folded)
    if value is None:
        return None
    if value.is_zero():
        return value.copy_abs()
    return -value if negative else value


# -------------------------------------------------------------------------- yes/no

# fmt: off
_YES = frozenset({
    "是", "是的", "是啊", "是呀", "对", "对的", "对啊", "对呀", "對", "對的",
    "好", "好的", "好啊", "好呀", "好吧", "好滴", "好哒", "好嘞", "可以", "可以的", "行", "行的",
    "确认", "確認", "确定", "確定", "同意", "嗯", "恩", "嗯呢", "要", "需要", "没问题", "沒問題",
    "y", "yes", "yeah", "yep", "ok", "okay", "1",
})
# fmt: on
# Cancel words (取消, 算了, 不办了, 退出) are deliberately absent: the router
# handles them before any form sees them, and "no" must never mean "cancel".
# fmt: off
_NO = frozenset({
    "否", "不", "不是", "不是的", "不对", "不對", "不要", "不要了", "不用", "不用了", "不需要", "不了",
    "不同意", "不行", "不可以", "不必", "没有", "沒有", "没", "沒",
    "n", "no", "nope", "2",
})
# fmt: on
# Longest first, so 谢谢你 is removed whole rather than leaving 你.
_THANKS = (
    "谢谢你",
    "谢谢您",
    "謝謝你",
    "謝謝您",
    "谢谢",
    "謝謝",
    "多谢",
    "多謝",
    "thankyou",
    "thanks",
    "thx",
)


def _one_period(text: str) -> str:
    """对对对 -> 对, 好的好的 -> 好的: a word said several times, once."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def parse_yes_no(text: str) -> bool | None:
    """Whether a member's answer means yes or no.

    Yes: 是(的), 对(的), 好(的), 可以, 行, 确认, 确定, 同意, 嗯, 要, 需要,
    没问题, y, yes, ok, okay and 1 (the first button, 是). No: 否, 不, 不是,
    不对, 不要, 不用, 不需要, 不了, 不行, 没有, n, no and 2. Traditional
    forms (對, 確認, 沒有...) count too, and so does the button's number as
    any list choice is written ("１", "一", "壹", "①", "第二个", "选2").

    Forgiven: punctuation, emoji and spaces around the word ("好的！", "是。",
    "好的👍", "是 的"), a repeated word ("对对对", "好的好的") and a closing
    thanks ("好的，谢谢", "不用了谢谢").

    Deliberately None: "取消", "算了", "退出" and other navigation words, so
    they keep their meaning; hedges such as "不确定" or "不知道"; and anything
    else. A yes confirms forms, so when in doubt the member is asked again.

    Args:
        text: what the member typed.

    Returns:
        True for yes, False for no, None when it is neither.
    """
    folded = _prepare(text)
    if not folded:
        return None
    word = "".join(_trim_noise(folded).split())
    for thanks in _THANKS:
        if word.endswith(thanks):
            word = _trim_noise(word[: -len(thanks)])
            break
    if not any(ch.isdigit() for ch in word):
        word = _one_period(word)
    if word in _YES:
        return True
    if word in _NO:
        return False
    return {1: True, 2: False}.get(parse_index(text) or 0)


# ---------------------------------------------------------------------------- date

_RELATIVE_DAYS = {
    "今天": 0,
    "今日": 0,
    "today": 0,
    "明天": 1,
    "明日": 1,
    "tomorrow": 1,
    "后天": 2,
    "後天": 2,
    "大后天": 3,
    "大後天": 3,
    "昨天": -1,
    "昨日": -1,
    "yesterday": -1,
    "前天": -2,
    "大前天": -3,
}
# 今年/明年 before a month and day; 后年 and the past ones for completeness.
_RELATIVE_YEARS = {"今年": 0, "明年": 1, "后年": 2, "後年": 2, "去年": -1, "前年": -2}
# 这周六, 下周六, 下个星期六, 上礼拜天: weeks start on Monday, as Chinese calendars print them.
_RELATIVE_WEEKS = {
    "这": 0, "這": 0, "本": 0, "这个": 0, "這個": 0,
    "下": 1, "下个": 1, "下個": 1, "下下": 2, "下下个": 2, "下下個": 2,
    "上": -1, "上个": -1, "上個": -1,
}  # fmt: skip
# 本月, 下个月, 上月: before a day (下个月5号) or 底/末 (下月底).
_RELATIVE_MONTHS = {
    "": 0, "本": 0, "这个": 0, "這個": 0, "这": 0, "這": 0,
    "下": 1, "下个": 1, "下個": 1, "上": -1, "上个": -1, "上個": -1,
}  # fmt: skip
_WEEKDAY_NUMBERS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6} | {
    str(number): number - 1 for number in range(1, 8)
}
_CN_YEAR_DIGITS = {ch: str(_CN_DIGITS[ch]) for ch in "〇零一二三四五六七八九"}
_YEAR = r"(?P<year>[0-9]{4}|[0-9]{2}|[〇零一二三四五六七八九]{4}|[〇零一二三四五六七八九]{2})"
_MONTH = r"(?P<month>[0-9]{1,2}|[一二三四五六七八九十]{1,3})"
_DAY = r"(?P<day>[0-9]{1,2}|[一二三四五六七八九十]{1,3})"
_SEP = r"[-/.。]"
_WEEK = r"(?:周|週|星期|礼拜|禮拜)"
_WEEKDAY = r"(?P<weekday>[一二三四五六日天1-7])"


def _alternatives(words: dict[str, int]) -> str:
    """A regex alternation of ``words``, longest first so 下下个 is not read as 下."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True) if word)


_DATE_FULL = (
    re.compile(rf"(?P<year>[0-9]{{4}}){_SEP}(?P<month>[0-9]{{1,2}}){_SEP}(?P<day>[0-9]{{1,2}})"),
    re.compile(r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})"),
    re.compile(rf"{_YEAR}年{_MONTH}月{_DAY}[日号號]?"),
)
_DATE_THIS_YEAR = (
    re.compile(rf"(?P<month>[0-9]{{1,2}}){_SEP}(?P<day>[0-9]{{1,2}})"),
    re.compile(rf"{_MONTH}月{_DAY}[日号號]?"),
)
_DATE_THIS_MONTH = re.compile(rf"{_DAY}[日号號]")
_DATE_RELATIVE_YEAR = re.compile(rf"(?P<which>{_alternatives(_RELATIVE_YEARS)}){_MONTH}月{_DAY}[日号號]?")
_DATE_RELATIVE_MONTH = re.compile(rf"(?P<which>{_alternatives(_RELATIVE_MONTHS)})月{_DAY}[日号號]")
_DATE_WEEKDAY = re.compile(rf"(?P<which>{_alternatives(_RELATIVE_WEEKS)})?{_WEEK}{_WEEKDAY}")
_MONTH_END = re.compile(rf"(?P<which>{_alternatives(_RELATIVE_MONTHS)})?月[底末]")
_YEAR_END = re.compile(r"(?:今年)?年[底末]|今年[底末]")
# The weekday the bot itself prints after a date, "2027年1月10日（周日）", so its own answer reads back.
_WEEKDAY_AFTER = re.compile(rf"\(?{_WEEK}{_WEEKDAY}\)?$")
_SPACE_BETWEEN_DIGITS = re.compile(r"(?<=[0-9]) (?=[0-9])")
# A month and day that are past this year come back within a year, 2月29日 within eight.
_LEAP_CYCLE_YEARS = 8


def _date_part(text: str) -> int | None:
    return int(text) if _ASCII_DIGITS.fullmatch(text) else chinese_numeral(text)


def _year(text: str) -> int:
    """2026, 26, 二〇二六 or 二六 (two digits mean 20xx)."""
    digits = text if text.isascii() else "".join(_CN_YEAR_DIGITS[ch] for ch in text)
    return int(digits) + (2000 if len(digits) == 2 else 0)


def _make_date(year: int, month: int | None, day: int | None) -> date | None:
    if month is None or day is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_after(year: int, month: int, months: int) -> tuple[int, int]:
    """The year and month ``months`` after (or before) ``year``-``month``."""
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    next_year, next_month = _month_after(year, month, 1)
    return date(next_year, next_month, 1) - timedelta(days=1)


def _month_day(base: date, month: int | None, day: int | None, *, ahead: bool) -> date | None:
    """This year's ``month``/``day``; ahead, the first one from ``base`` on (next year's once past)."""
    if not ahead:
        return _make_date(base.year, month, day)
    for year in range(base.year, base.year + _LEAP_CYCLE_YEARS + 1):
        found = _make_date(year, month, day)
        if found is not None and found >= base:
            return found
    return None


def _day_of_month(base: date, day: int | None, *, ahead: bool) -> date | None:
    """This month's ``day``; ahead, the first one from ``base`` on (next month's once past)."""
    if not ahead:
        return _make_date(base.year, base.month, day)
    year, month = base.year, base.month
    for _ in range(12):
        found = _make_date(year, month, day)
        if found is not None and found >= base:
            return found
        year, month = _month_after(year, month, 1)
    return None


def _relative_date(text: str, base: date, *, ahead: bool) -> date | None:
    """The forms that name a day from today: 下周六, 周五, 月底, 下个月5号, 明年5月1日, 年底."""
    match = _DATE_WEEKDAY.fullmatch(text)
    if match:
        monday = base - timedelta(days=base.weekday())
        weeks = _RELATIVE_WEEKS[match["which"]] if match["which"] else 0
        found = monday + timedelta(days=7 * weeks + _WEEKDAY_NUMBERS[match["weekday"]])
        if ahead and match["which"] is None and found < base:
            found += timedelta(days=7)  # 周一 said on a Wednesday: the coming one
        return found
    match = _MONTH_END.fullmatch(text)
    if match:
        return _month_end(*_month_after(base.year, base.month, _RELATIVE_MONTHS[match["which"] or ""]))
    if _YEAR_END.fullmatch(text):
        return date(base.year, 12, 31)
    match = _DATE_RELATIVE_MONTH.fullmatch(text)
    if match:
        year, month = _month_after(base.year, base.month, _RELATIVE_MONTHS[match["which"]])
        return _make_date(year, month, _date_part(match["day"]))
    match = _DATE_RELATIVE_YEAR.fullmatch(text)
    if match:
        year = base.year + _RELATIVE_YEARS[match["which"]]
        return _make_date(year, _date_part(match["month"]), _date_part(match["day"]))
    return None


def _calendar_date(text: str, base: date, *, ahead: bool) -> date | None:
    """A date written with digits or numerals: 2026-11-23, 2026年11月23日, 11月23日, 23号."""
    for pattern in _DATE_FULL:
        match = pattern.fullmatch(text)
        if match:
            return _make_date(_year(match["year"]), _date_part(match["month"]), _date_part(match["day"]))
    for pattern in _DATE_THIS_YEAR:
        match = pattern.fullmatch(text)
        if match:
            return _month_day(base, _date_part(match["month"]), _date_part(match["day"]), ahead=ahead)
    match = _DATE_THIS_MONTH.fullmatch(text)
    if match:
        return _day_of_month(base, _date_part(match["day"]), ahead=ahead)
    return None


def _plain_date(text: str, base: date, *, ahead: bool) -> date | None:
    if text in _RELATIVE_DAYS:
        return base + timedelta(days=_RELATIVE_DAYS[text])
    return _relative_date(text, base, ahead=ahead) or _calendar_date(text, base, ahead=ahead)


def _read_date(folded: str, base: date, *, ahead: bool) -> date | None:
    text = _SPACE_BETWEEN_DIGITS.sub("-", folded).replace(" ", "")
    found = _plain_date(text, base, ahead=ahead)
    if found is not None:
        return found
    said = _WEEKDAY_AFTER.search(text)
    if said is None or said.start() == 0:
        return None
    found = _plain_date(text[: said.start()], base, ahead=ahead)
    if found is not None and found.weekday() != _WEEKDAY_NUMBERS[said["weekday"]]:
        return None  # 1月10日（周六） when the 10th is a Sunday: which one was meant is anyone's guess
    return found


def parse_date(text: str, *, today: date, ahead: bool = False) -> date | None:
    """The calendar date a member means.

    Accepted:

    * with a year: "2026-11-23", "2026/11/23", "2026.11.23", "2026 11 23",
      "20261123", "2026年11月23日" (or 号), "26年11月23日" (20xx), "二〇二六年
      十一月二十三日"; "明年5月1日", "今年", "后年", "去年", "前年" before a month
      and day;
    * without a year: "11月23日", "11-23", "11/23", "11.23";
    * without a month: "23号", "23日"; "下个月5号", "本月5号", "上月5号";
    * a week day: "周五", "星期五", "礼拜五" (日/天 for Sunday), "这周五", "下周六",
      "下下周一", "上周五"; weeks start on Monday;
    * ends: "月底"/"月末" (this month's last day, also "本月底", "下个月底"),
      "年底"/"年末" (31 December);
    * "今天", "明天", "后天", "大后天", "昨天", "前天", "大前天" (also
      today/tomorrow/yesterday).

    A weekday after a date, "2027年1月10日（周日）" as the bot prints dates, must
    be that date's, or the answer is not understood. Full-width digits and
    spaces are forgiven.

    ``ahead`` decides what a date without its year, month or week means. Asked
    for a time to come (an activity, a notice's send time), the next such day:
    "1月10日" typed in December is next January, "5号" typed on the 20th is
    next month's, "周一" typed on a Wednesday is next Monday. Otherwise (a day
    something happened) the current year, month and week: "1月5日" typed in
    December is this January. Today itself counts as to come, so "月底" on
    the last day of a month is today; "下个月底" is the month after. Words
    that say which year, month or week ("明年", "下个月", "这周五") are taken
    as said either way, and the caller refuses a past date if it must.

    Args:
        text: what the member typed.
        today: the current date in the union's time zone (a ``datetime`` is
            reduced to its date).
        ahead: read a date without its year, month or week as the next such day.

    Returns:
        The date, or None for impossible dates ("2026-02-30", "2月29日" in a
        common year when not ahead), other orders ("23/11/2026"), times and
        anything else.
    """
    folded = _prepare(text)
    if not folded:
        return None
    base = date(today.year, today.month, today.day)
    try:
        return _read_date(_trim_sentence_end(folded), base, ahead=ahead)
    except (OverflowError, ValueError):
        return None  # past date.max or before date.min


# ------------------------------------------------------------------ what is typed


def _tag_run_end(text: str, start: int) -> int:
    """End of a valid emoji tag run (e.g. Scotland's flag) starting at ``start``, or ``start``."""
    for index in range(start, min(len(text), start + _MAX_TAG_RUN + 1)):
        code = ord(text[index])
        if not _TAG_FIRST <= code <= _TAG_CANCEL:
            break
        if code == _TAG_CANCEL:
            return index + 1 if index > start else start
    return start


def control_characters(text: str) -> list[str]:
    """The invisible control and format characters in ``text``, for refusing it.

    Such characters cannot be seen, so they hide content, reverse how text is
    displayed (U+202E makes "exe.doc" look like "cod.exe"), break exports and
    smuggle hidden instructions. Reported: category Cc except "\\n", "\\r"
    and "\\t"; category Cf (zero-width space U+200B, joiners other than ZWJ,
    bidi embeddings, overrides and isolates U+202A-U+202E/U+2066-U+2069, BOM
    U+FEFF, soft hyphen U+00AD, ...); and lone surrogates (Cs), which cannot
    even be encoded to store.

    Not reported: U+200D ZWJ, which joins emoji such as families, and the
    invisible tag letters of a subdivision flag (🏴 followed by at most eight
    tags ending in U+E007F). Variation selectors are marks, not Cf, so they
    are allowed too.

    Args:
        text: the text to check, as received.

    Returns:
        Each offending character once, in order of first appearance; empty
        when the text is clean. Show them to members as ``f"U+{ord(ch):04X}"``.
    """
    found: dict[str, None] = {}
    index = 0
    while index < len(text):
        ch = text[index]
        index += 1
        if ord(ch) == _BLACK_FLAG:
            index = _tag_run_end(text, index)
            continue
        if ch in "\n\r\t" or ch == _ZWJ:
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            found.setdefault(ch)
    return list(found)
