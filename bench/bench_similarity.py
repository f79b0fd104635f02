"""How long the "similar suggestions" hint takes against a big union's suggestions.

1. **Index**: 10,000 suggestions (``--suggestions``), generated from the phrase
   pieces a factory union's suggestions are made of (a place, a subject, a
   problem, one to three measures, a benefit), each segmented once with
   ``models.similarity.index_terms``, as at submission.
2. **Rank**: 200 queries (``--queries``), each a title and the start of a
   measure as a member types them, segmented with ``terms`` and ranked with
   ``rank`` against all 10,000 stored term strings (already in memory: the
   database query that fetches them is not timed here). Reported: p50 and p99
   of terms + rank per query (wall clock and this process's CPU), and of rank
   alone, nearest rank; and the CPU of what the form asks after the measure,
   ``rank_any`` of the measure alone and with the title.
3. **Long measure**: ``terms`` of a 2,000-character measure (the dialog's
   longest), p50 and p99 over 50 runs.
4. **False hints** (``--quality`` queries of each kind, whole title and
   measure, at the default threshold), the hint after the measure scored two
   ways: *before*, title and measure as one text (``rank``); *after*, the
   better of the measure alone and both together (``rank_any``, what the form
   does now; the title alone is looked up after the title, unchanged).
   Three kinds of query: a *new idea*, on a subject none of the 10,000 is about
   but written from the same phrase pieces (any hint is a false one); an idea
   *retyped* from a subject the union has; and the same with the title
   *reworded* in everyday words ("一车间的一点想法"), as members write it. A hint
   about another subject is a false hint; a retyped idea with no hint about its
   own subject is a miss.

Also printed: ``warm_up()`` in this process (jieba's dictionary, from its
cache in the temp dir when one is there), and how many queries found at least
one suggestion above the threshold. No goal; exit status 0.

Run: ``.venv/bin/python bench/bench_similarity.py [--suggestions 10000] [--queries 200] [--quality 100]``
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import TypeVar

from common import machine, percentile

from models.suggestions.similarity import DEFAULT_MIN_SCORE, index_terms, rank, rank_any, terms, warm_up

PLACES = (
    "一车间",
    "二车间",
    "三车间",
    "动力车间",
    "机修车间",
    "热处理车间",
    "仓储物流部",
    "质检中心",
    "食堂",
    "宿舍区",
)
SUBJECTS = (
    ("空压机", "余热"),
    ("照明", "LED灯具"),
    ("食堂", "夜班热饭"),
    ("浴室", "热水"),
    ("劳保用品", "手套"),
    ("行车", "吊装作业"),
    ("电动车", "充电桩"),
    ("冷却水", "循环水池"),
    ("设备点检表", "扫码点检"),
    ("设备备件", "共享库"),
    ("班车", "发车时间"),
    ("更衣室", "储物柜"),
    ("车间空调", "降温"),
    ("饮水机", "滤芯"),
    ("焊接烟尘", "除尘器"),
    ("叉车", "限速"),
    ("消防通道", "占用"),
    ("职工书屋", "开放时间"),
    ("噪声", "隔音罩"),
    ("班组", "安全生产培训"),
)
# Subjects none of the generated suggestions is about: a member with one of these has a new idea.
NEW_SUBJECTS = (
    ("锅炉", "排烟"),
    ("配电房", "变压器"),
    ("喷漆房", "废气"),
    ("厂区道路", "路灯"),
    ("仓库", "货架"),
    ("门卫室", "访客登记"),
    ("绿化带", "喷灌"),
    ("职工宿舍", "洗衣机"),
    ("货梯", "维保"),
    ("会议室", "投影仪"),
)
# A title in everyday words, saying only where: what members often write first.
REWORDED_TITLES = ("{place}的一点想法", "给{place}提个意见", "{place}存在的问题", "希望{place}改一改")
PROBLEMS = (
    "长期存在{a}问题，职工反映强烈",
    "{a}运行不正常，影响正常生产",
    "{a}管理混乱，存在安全隐患",
    "{a}能耗偏高，每月费用超过两万元",
    "{b}不够用，夜班职工意见较大",
    "{a}老化严重，维修频繁",
)
MEASURES = (
    "建议对{a}进行技术改造",
    "建议增加{b}并明确专人负责",
    "建议由车间牵头制定{a}管理办法",
    "建议分批更换{a}，优先解决{b}",
    "建议每周检查一次{b}，发现问题及时上报",
    "建议在班组长会议上通报{a}情况",
    "建议参考兄弟单位的做法改进{b}",
)
BENEFITS = (
    "预计每年节约成本约三万元。",
    "可以明显改善职工工作环境。",
    "有利于安全生产和节能降耗。",
    "能提高职工满意度。",
    "可减少设备故障停机时间。",
)

T = TypeVar("T")


def suggestion(chance: random.Random) -> tuple[str, str]:
    """A title and a measure, put together the way members write them."""
    _subject, title, measure = about(chance, SUBJECTS)
    return title, measure


def about(
    chance: random.Random, subjects: tuple[tuple[str, str], ...], reworded: bool = False
) -> tuple[str, str, str]:
    """A suggestion on one of ``subjects``: the subject, a title and a measure."""
    place = chance.choice(PLACES)
    a, b = chance.choice(subjects)
    title = f"{place}{a}{chance.choice(('改造', '问题', '管理', '改进', '的建议'))}"
    measures = "，".join(m.format(a=a, b=b) for m in chance.sample(MEASURES, chance.randint(1, 3)))
    problem = chance.choice(PROBLEMS).format(a=a, b=b)
    if reworded:
        title = chance.choice(REWORDED_TITLES).format(place=place)
    return a, title, f"{place}{problem}。{measures}，{chance.choice(BENEFITS)}"


def long_measure(chance: random.Random, length: int = 2000) -> str:
    text = ""
    while len(text) < length:
        text += suggestion(chance)[1]
    return text[:length]


def timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def ms(values: list[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:7.2f} ms"


def quality(
    chance: random.Random, stored: list[tuple[int, str]], subject_of: dict[int, str], queries: int
) -> None:
    """False hints and misses of the hint after the measure, scored as one text and field by field."""
    kinds = (
        ("new idea", NEW_SUBJECTS, False),
        ("retyped", SUBJECTS, False),
        ("reworded title", SUBJECTS, True),
    )
    print(f"false hints at the threshold {DEFAULT_MIN_SCORE}, {queries} queries of each kind:")
    print("  kind            scored as       queries with a false hint   false hints/shown   missed")
    for name, subjects, reworded in kinds:
        asked = [about(chance, subjects, reworded) for _ in range(queries)]
        ways: dict[str, Callable[[str, str], list[tuple[int, float]]]] = {
            "one text": lambda title, measure: rank(terms(f"{title}\n{measure}"), stored),
            "best field": lambda title, measure: rank_any(
                [terms(measure), terms(f"{title}\n{measure}")], stored
            ),
        }
        for way, ranked in ways.items():
            false_queries = shown = false = missed = 0
            for subject, title, measure in asked:
                hints = [subject_of[hint] for hint, _ in ranked(title, measure)]
                wrong = sum(hinted != subject for hinted in hints)
                shown += len(hints)
                false += wrong
                false_queries += wrong > 0
                missed += subject not in hints
            share = f"{false}/{shown} ({false / shown:.1%})" if shown else "0/0"
            miss = "–" if subjects is NEW_SUBJECTS else f"{missed / queries:.1%}"
            print(
                f"  {name:<15} {way:<15} {false_queries:>4} of {queries} ({false_queries / queries:5.1%})"
                f"        {share:<18}  {miss}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suggestions", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--quality", type=int, default=100, help="queries of each kind for the false hints")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(machine([], "", ["jieba"]))
    chance = random.Random(args.seed)

    _, took = timed(warm_up)
    print(f"warm_up: {took:.2f} s")

    generated = [about(chance, SUBJECTS) for _ in range(args.suggestions)]
    texts = [(title, measure) for _subject, title, measure in generated]
    subject_of = {n: subject for n, (subject, _title, _measure) in enumerate(generated, 1)}
    stored, took = timed(lambda: [(n, index_terms(*text)) for n, text in enumerate(texts, 1)])
    words = sum(len(s.split()) for _, s in stored) / len(stored)
    print(
        f"index: {len(stored):,} suggestions in {took:.2f} s "
        f"({took / len(stored) * 1000:.2f} ms each, {words:.0f} terms on average)"
    )

    whole: list[float] = []
    ranking: list[float] = []
    cpu: list[float] = []
    fields_cpu: list[float] = []
    found = 0
    for _ in range(args.queries):
        title, measure = suggestion(chance)
        written = measure[: chance.randint(0, len(measure))]
        typed = f"{title} {written}"
        start, start_cpu = time.perf_counter(), time.process_time()
        query = terms(typed)
        middle = time.perf_counter()
        hits = rank(query, stored)
        end, end_cpu = time.perf_counter(), time.process_time()
        whole.append(end - start)
        ranking.append(end - middle)
        cpu.append(end_cpu - start_cpu)
        found += bool(hits)
        # What the form asks after the measure: the measure alone and with the title, in one read.
        start_cpu = time.process_time()
        rank_any([terms(written), terms(typed)], stored)
        fields_cpu.append(time.process_time() - start_cpu)
    print(f"terms + rank, {args.queries} queries:  p50 {ms(whole, 0.5)}   p99 {ms(whole, 0.99)}")
    print(f"rank alone:                    p50 {ms(ranking, 0.5)}   p99 {ms(ranking, 0.99)}")
    print(f"terms + rank, CPU:             p50 {ms(cpu, 0.5)}   p99 {ms(cpu, 0.99)}")
    print(f"terms + rank_any (2), CPU:     p50 {ms(fields_cpu, 0.5)}   p99 {ms(fields_cpu, 0.99)}")
    print(f"queries with a hint (score >= {DEFAULT_MIN_SCORE}): {found} of {args.queries}")

    measure = long_measure(chance)
    runs = [timed(lambda: terms(measure))[1] for _ in range(50)]
    print(f"terms of a {len(measure):,}-character measure: p50 {ms(runs, 0.5)}   p99 {ms(runs, 0.99)}")

    quality(random.Random(args.seed + 1), stored, subject_of, args.quality)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
