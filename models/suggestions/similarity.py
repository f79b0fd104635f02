"""Similar suggestions: the text half of "已有类似建议，您可以附议".

While a member types a rationalisation suggestion (合理化建议), they are shown up to three existing
suggestions of their union that say much the same, so they can support one instead of filing a
duplicate that a committee then has to answer twice. This module only turns text into search terms
and ranks stored terms against a query; which suggestions are candidates (the member's union, still
open) is the database query's business.

Terms are computed once, at submission (``index_terms``), and stored: segmenting Chinese costs far
more than comparing word lists, and a union may hold thousands of suggestions.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import stat
import tempfile
import threading
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path

with warnings.catch_warnings():
    # jieba 0.42.1 (January 2020, still the latest release) writes regexes as "\." and "\s" in plain
    # strings. When its .pyc is missing or stale (a read-only install, PYTHONDONTWRITEBYTECODE, a
    # different PYTHONPYCACHEPREFIX) Python compiles it again and warns: DeprecationWarning on 3.11,
    # SyntaxWarning from 3.12; and under ``-W error`` or pytest's ``filterwarnings = error`` the
    # import fails with a SyntaxError. It also imports pkg_resources if it can: setuptools 80 warns
    # on that import (UserWarning), 81 and later no longer have it and jieba reads its files itself.
    # Only those warnings are silenced, and only while jieba loads.
    warnings.filterwarnings("ignore", message=r"invalid escape sequence", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=r"invalid escape sequence", category=SyntaxWarning)
    warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pkg_resources")
    import jieba

__all__ = ["DEFAULT_MIN_SCORE", "index_terms", "rank", "rank_any", "terms", "warm_up"]

# Words of a union's suggestions that must stay whole for two members describing the same idea to
# share them. jieba's own dictionary splits 合理化建议 (合理化/建议, and 建议 is a stop word) and
# 安全生产 (安全/生产); it knows the others today, and adding them (jieba picks a frequency that
# keeps each whole) protects them from neighbours that would win a split. Added once, at warm-up.
UNION_WORDS = (
    "合理化建议",
    "金点子",
    "节能降耗",
    "降本增效",
    "安全生产",
    "班组",
    "车间",
    "空压机",
    "余热",
    "劳保用品",
    "职代会",
    "点检",
    "夜班",
    "技术革新",
)

# Function words, and what every suggestion says ("建议", "希望", "我们"): they carry no topic.
# Topic words common in a union's suggestions (职工, 设备, 车间) are *not* here: how common they are
# differs between unions, and the ranking weighs them by how many of that union's suggestions use them.
_STOP_WORDS = """
    的 地 得 了 着 过 和 与 及 以及 或 或者 并 并且 而 而且 是 在 对 对于 把 将 被 为 为了 给 从 向 让
    使 由 以 于 至 到 也 都 就 还 又 再 很 更 最 等 等等 之 其 此 该 这 这个 这些 那 那些 个 些 有 没有
    无 不 没 要 会 能 能够 可 可以 应 应该 应当 需要 须 我 我们 你 你们 您 他 她 它 他们 她们 大家 自己
    本人 建议 希望 提议 请 请求 恳请 关于 一下 一些 一个 进行 相关 方面 如何 怎么 什么 目前 现在 已经 因为
    所以 如果 但是 但 然后 比如 例如 同时 另外 吗 呢 吧 啊 呀 嘛
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

# BM25 as Robertson and Lucene use it. k1 = 1.5 lets a word repeated in a long measure count a
# little more than once but soon saturates; b = 0.75 keeps a 2,000-character measure from matching
# everything merely by being long.
K1 = 1.5
B = 0.75

# See ``rank`` for what the score means. Measured on the factory union of
# tests/models/test_similarity.py (12 suggestions): the suggestion a member is retyping scores
# 0.56-1.6; a different one on a shared subject (the same 浴室, another problem) 0.31-0.32; one
# sharing a single specific word with a short query (夜班) 0.41; one sharing only 职工 or 设备 with
# the query under 0.2. The same retyped suggestion among 10,000 generated ones
# (bench/bench_similarity.py): 0.72. The threshold leans low: an extra hint costs the member a
# glance, a missed duplicate costs the committee a second answer. After the measure the hint takes
# the better of the measure alone and title and measure together (``rank_any``), each against this
# same threshold; on the benchmark's data that added 5 false hints in 300 (bench/RESULTS.md).
DEFAULT_MIN_SCORE = 0.4

# See ``_idf``.
PRIOR_SUGGESTIONS = 2

_ready = False
_ready_lock = threading.Lock()


def _private_cache_dir() -> str:
    """A temp folder only this user owns and can write, for jieba's dictionary cache."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # not POSIX: no shared /tmp to guard against
        return tempfile.gettempdir()
    uid = getuid()
    folder = Path(tempfile.gettempdir()) / f"unionbot-jieba-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o022:
            return str(folder)
    except OSError:
        pass
    # Someone else made that folder, or it cannot be made: a fresh private one for this process.
    return tempfile.mkdtemp(prefix="unionbot-jieba-")


def warm_up() -> None:
    """Load jieba's dictionary now, so the first member typing a suggestion does not wait for it.

    Takes about a second the first time (less when jieba's cache in the temp dir is warm); later
    calls return at once. Safe to call from several threads: the core serves messages on several.
    """
    global _ready
    if _ready:
        return
    with _ready_lock:
        if _ready:
            return
        # jieba logs "Building prefix dict ..." at DEBUG through its own stderr handler. Its records
        # go through our logging like everyone else's instead, and only when they matter ("Dump
        # cache file failed" is an error).
        for name in ("jieba", "jieba._compat"):
            jieba_logger = logging.getLogger(name)
            jieba_logger.setLevel(logging.WARNING)
            for handler in list(jieba_logger.handlers):
                jieba_logger.removeHandler(handler)
        # jieba keeps its dictionary cache in the shared temp dir and loads it with ``marshal``:
        # another user able to write that file could run code in ours. The cache goes into a
        # folder only this user may write.
        jieba.dt.tmp_dir = _private_cache_dir()
        jieba.initialize()
        for word in UNION_WORDS:
            jieba.add_word(word)
        _ready = True


def terms(text: str) -> list[str]:
    """The words of ``text`` that say what it is about, in order, repeats kept.

    Full-width letters and digits (ＬＥＤ, ３号) are folded to ASCII and lower-cased, so a member
    typing on a phone's Chinese keyboard finds what another typed on a PC. Words are segmented for
    search: a compound also yields the shorter words in it (劳保用品 → 劳保, 用品, 劳保用品), so it
    matches a suggestion that wrote only 劳保.
    """
    warm_up()
    folded = unicodedata.normalize("NFKC", text).lower()
    return [word for word in _cut_for_search(folded) if _is_term(word)]


def index_terms(*texts: str) -> str:
    """The value of a suggestion's ``terms`` column: the terms of its title and measure.

    Stored once, so ranking a union's suggestions never segments them again; single spaces because
    no term contains whitespace.
    """
    return " ".join(term for text in texts for term in terms(text))


def rank(
    query: Sequence[str],
    documents: Iterable[tuple[int, str]],
    *,
    limit: int = 3,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[tuple[int, float]]:
    """The suggestions most like ``query``, best first, as (id, score); at most ``limit`` of them.

    ``documents`` are all candidate suggestions as (id, stored ``index_terms``): word frequencies
    come from them, so a word most of this union's suggestions use (职工 in a factory) weighs little.

    The score is BM25 divided by the query's own score (each query word found once in a suggestion
    of average length), but never by less than one word no other suggestion uses would score. The
    first makes the score the share of what the query says that the suggestion also says, so a
    threshold means the same for "空压机余热" and for a whole measure, and sharing 设备 with a long
    query counts for little. The second keeps a query of one or two everyday words (设备, 职工设备)
    from matching everything that uses them. A word used by half of the suggestions or more weighs
    nothing (see ``_idf``). 1.0 is a suggestion saying all the query says; a short one repeating the
    query's words scores more. Ties go to the lower (older) id, so the hint does not reshuffle from
    one keystroke to the next.
    """
    return rank_any([query], documents, limit=limit, min_score=min_score)


def rank_any(
    queries: Sequence[Sequence[str]],
    documents: Iterable[tuple[int, str]],
    *,
    limit: int = 3,
    min_score: float = DEFAULT_MIN_SCORE,
) -> list[tuple[int, float]]:
    """The suggestions most like any of ``queries``, each scored by the query it matches best.

    The queries are what a member wrote, field by field (the title, the measure, both together).
    Scored as one text, a close match of one field is diluted by the other's own words: a title in
    everyday words over a measure that names the same mirror at the same corner scored 0.37 where
    the measure alone scored 0.51. Each query's score means what :func:`rank` says; a suggestion
    counts with the best of them. The documents are read once, whatever the number of queries.
    """
    wanted_each = [set(query) for query in queries if query]
    if not wanted_each or limit <= 0:
        return []
    wanted = set().union(*wanted_each)
    count = 0
    total_length = 0
    # The split words are not kept for every document (memory, and the garbage collector walking it):
    # the few that get scored are split again.
    matched: list[tuple[int, str, int, set[str]]] = []
    for document_id, stored in documents:
        words = stored.split()
        count += 1
        total_length += len(words)
        shared = wanted.intersection(words)
        if shared:
            matched.append((document_id, stored, len(words), shared))
    if not matched:
        return []
    frequency = Counter(chain.from_iterable(shared for _, _, _, shared in matched))
    weights = {word: _idf(count, found) for word, found in frequency.items()}
    unknown = _idf(count, 0)  # a word no suggestion uses: the query says something new
    average_length = total_length / count
    best: dict[int, float] = {}
    for query_words in wanted_each:
        top = _top(query_words, matched, frequency, weights, unknown, average_length, count, limit, min_score)
        for document_id, score in top:
            best[document_id] = max(score, best.get(document_id, 0.0))
    # A suggestion among the best ``limit`` for the query it matches best is among that query's own best
    # ``limit``, so the union of each query's best holds the overall best.
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


def _top(
    wanted: set[str],
    matched: Sequence[tuple[int, str, int, set[str]]],
    frequency: Counter[str],
    weights: dict[str, float],
    unknown: float,
    average_length: float,
    count: int,
    limit: int,
    min_score: float,
) -> list[tuple[int, float]]:
    """One query's best ``limit`` documents scoring ``min_score`` or more, as (id, score), best first.

    ``matched`` are the documents sharing a word with any of the queries, with those words;
    ``frequency`` counts the documents sharing each of those words.
    """
    self_score = sum(weights.get(word, unknown) for word in wanted)
    best_possible = max(self_score, _idf(count, 1))
    weight = weights.__getitem__
    # A word's BM25 factor stays below k1 + 1 however often a short text repeats it, so the weights of
    # the shared words bound a document's score. Documents are scored from the highest bound down, and
    # the rest skipped once their bound is below min_score or the limit-th score found so far: in a big
    # union most documents share some everyday word with a long query and few need scoring.
    if wanted.issuperset(frequency):
        # The query holds every word any query shares with a document (the title and the measure
        # together, beside the measure alone): what each document shares with it is already known.
        candidates = [
            (sum(map(weight, shared)), document_id, stored, length, shared)
            for document_id, stored, length, shared in matched
        ]
    else:
        candidates = [
            (sum(map(weight, shared)), document_id, stored, length, shared)
            for document_id, stored, length, all_shared in matched
            if (shared := all_shared & wanted)
        ]
    candidates.sort(key=lambda candidate: candidate[0], reverse=True)
    scale = (K1 + 1) / best_possible
    top: list[tuple[float, int]] = []  # (score, -id): the heap's first is the worst kept
    for bound, document_id, stored, length, shared in candidates:
        reachable = bound * scale
        if reachable <= 0 or reachable < min_score or (len(top) == limit and reachable < top[0][0]):
            break
        words = stored.split()
        norm = K1 * (1 - B + B * length / average_length)
        # fsum: the same words give the same score whatever order the set yields them in, so twins tie
        # exactly and the older one wins.
        score = math.fsum(
            weights[word] * n * (K1 + 1) / (n + norm) for word in shared for n in (words.count(word),)
        )
        entry = (score / best_possible, -document_id)
        if len(top) < limit:
            heapq.heappush(top, entry)
        elif entry > top[0]:
            heapq.heapreplace(top, entry)
    return [(-negative_id, score) for score, negative_id in sorted(top, reverse=True) if score >= min_score]


def _idf(count: int, found: int) -> float:
    # Robertson and Sparck Jones's weight, which BM25 was built on, kept at 0 where it turns negative:
    # a word used by half of the suggestions or more says nothing about which one the member means.
    # (Lucene adds 1 inside the log to avoid negatives, and so lets 职工 pull in half the union.)
    # Counting PRIOR_SUGGESTIONS more suggestions that share no word with the query keeps the
    # weight positive for a union's first two suggestions, where no word can be told common yet.
    others = count + PRIOR_SUGGESTIONS - found
    return max(0.0, math.log((others + 0.5) / (found + 0.5)))


def _cut_for_search(text: str) -> list[str]:
    # jieba is untyped; this is the one place its words enter typed code.
    words: list[str] = jieba.lcut_for_search(text)
    return words


def _is_term(word: str) -> bool:
    # Punctuation, emoji and whitespace come back from jieba as words of their own.
    return word not in STOP_WORDS and any(unicodedata.category(c)[0] in "LN" for c in word)
