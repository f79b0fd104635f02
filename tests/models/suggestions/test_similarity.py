"""The "similar suggestions" hint finds the suggestion a member is about to file again, and only that."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from handlers.suggestions.demo import SUGGESTIONS as DEMO_SUGGESTIONS
from models.suggestions.similarity import DEFAULT_MIN_SCORE, index_terms, rank, rank_any, terms, warm_up

# A factory union's suggestions as members write them: 职工 and 设备 turn up in about half of them.
FACTORY = {
    1: (
        "空压机余热回收用于浴室热水",
        "动力车间三台空压机运行时产生大量余热，建议给空压机设备加装热回收装置，把余热用于职工浴室热水供应，"
        "冬季可节省燃气费用。",
    ),
    2: (
        "车间照明改LED节能灯",
        "一车间厂房仍使用高压钠灯，耗电量大、亮度不足，建议分批更换为LED照明设备并加装分区开关，降低照明电耗。",
    ),
    3: (
        "食堂延长夜班供餐时间",
        "夜班职工凌晨下班时食堂已经关门，只能吃泡面，建议食堂保留一个夜间窗口，提供热饭热菜。",
    ),
    4: (
        "劳保用品按岗位核定发放",
        "目前劳保用品统一发放，焊工手套磨损快不够用，办公室人员却用不完，建议按岗位实际消耗核定发放标准。",
    ),
    5: (
        "行车吊装区增设安全警示",
        "二车间行车吊装作业区没有警戒线，建议增设声光报警器和地面警示标线，加强安全生产管理。",
    ),
    6: (
        "班组安全培训改为现场教学",
        "班组安全生产培训多是念文件，职工参与度低，建议改为在设备旁现场讲解操作规程和事故案例。",
    ),
    7: (
        "设备点检表电子化",
        "纸质设备点检表容易漏填、难以追溯，建议使用手机扫码点检，数据自动汇总到设备管理系统。",
    ),
    8: (
        "职工食堂增设清真窗口",
        "厂里少数民族职工有三十多人，在食堂用餐不方便，建议开设清真窗口并单独配备餐具。",
    ),
    9: (
        "停车棚加装电动车充电桩",
        "职工把电动车推进宿舍楼道充电，存在火灾隐患，建议在厂区停车棚集中安装充电设备并定时断电。",
    ),
    10: (
        "热处理冷却水循环利用",
        "热处理车间冷却水用完直接排放，冷却设备耗水大，建议建设循环水池，经过滤降温后重复使用，节能降耗，"
        "每年可节水约两万吨。",
    ),
    11: (
        "职工浴室延长开放时间",
        "浴室只在白班下班时开放，倒班职工下夜班后洗不上澡，建议浴室全天开放并保证热水。",
    ),
    12: (
        "设备备件全厂共享",
        "各车间各自储备设备备件，积压资金又互相借不到，建议建立全厂备件共享库，统一编码管理。",
    ),
}


@pytest.fixture(scope="module")
def stored() -> list[tuple[int, str]]:
    """The suggestions as the database hands them over: id and the terms stored at submission."""
    return [(number, index_terms(title, measure)) for number, (title, measure) in FACTORY.items()]


def similar(text: str, stored: list[tuple[int, str]], **options: int) -> list[int]:
    return [number for number, _ in rank(terms(text), stored, **options)]


def test_the_suggestion_a_member_is_retyping_comes_first(stored: list[tuple[int, str]]) -> None:
    assert similar("利用空压机余热给职工浴室供热水", stored)[0] == 1
    assert similar("食堂增加夜班热饭", stored)[0] == 3
    assert similar("劳保手套不够用", stored) == [4]
    assert similar("手机扫码点检设备", stored) == [7]
    assert similar("夜班职工洗澡没有热水", stored)[0] == 11


def test_an_unrelated_suggestion_is_not_offered(stored: list[tuple[int, str]]) -> None:
    assert 2 not in similar("食堂增加夜班热饭", stored, limit=12)
    # The other 浴室 suggestion is about opening hours, not about where the hot water comes from.
    assert similar("利用空压机余热给职工浴室供热水", stored, limit=12) == [1]


@pytest.mark.parametrize(
    "text", ["职工", "设备", "职工设备", "建议增加职工设备维护", "组织职工开展设备技能比武"]
)
def test_words_half_the_union_uses_find_nothing(stored: list[tuple[int, str]], text: str) -> None:
    assert terms(text)
    assert similar(text, stored, limit=12) == []


def test_one_specific_word_is_enough(stored: list[tuple[int, str]]) -> None:
    assert similar("空压机", stored) == [1]
    assert similar("浴室", stored) == [11, 1]


def test_full_width_and_capitals_match_what_another_member_typed(stored: list[tuple[int, str]]) -> None:
    assert terms("ＬＥＤ照明") == terms("led照明") == terms("Led 照明")
    assert similar("ＬＥＤ灯", stored) == [2]
    assert "3号" in "".join(terms("３号空压机"))


def test_punctuation_and_emoji_are_not_words(stored: list[tuple[int, str]]) -> None:
    assert terms("！！？？……，。 👍👍🎉\u3000——") == []
    assert index_terms("？？？", "😀") == ""
    assert rank(terms("👍！"), stored) == []
    assert terms("空压机！！！👍") == terms("空压机")


def test_stop_words_are_left_out() -> None:
    words = terms("我们建议在车间的空压机上加装余热回收和降噪装置")
    assert not {"我们", "建议", "在", "的", "和"} & set(words)
    assert {"车间", "空压机", "余热", "回收"} <= set(words)


@pytest.mark.parametrize(
    "word", ["合理化建议", "金点子", "节能降耗", "安全生产", "班组", "车间", "空压机", "余热", "劳保用品"]
)
def test_union_vocabulary_stays_one_word(word: str) -> None:
    assert word in terms(f"关于{word}的问题")


def test_at_most_limit_best_first(stored: list[tuple[int, str]]) -> None:
    ranked = rank(terms("职工食堂夜班浴室热水"), stored, limit=2)
    assert len(ranked) == 2
    assert ranked[0][1] >= ranked[1][1] >= DEFAULT_MIN_SCORE
    assert rank(terms("职工食堂夜班浴室热水"), stored, limit=0) == []


def test_equal_scores_keep_the_older_suggestion_first(stored: list[tuple[int, str]]) -> None:
    twins = [(99, index_terms("更衣室加装烘干机")), (42, index_terms("更衣室加装烘干机"))]
    assert similar("更衣室烘干机", [*stored, *twins]) == [42, 99]


def test_the_threshold_is_the_callers_to_move(stored: list[tuple[int, str]]) -> None:
    loose = rank(terms("利用空压机余热给职工浴室供热水"), stored, limit=12, min_score=0.2)
    assert [number for number, _ in loose][:2] == [1, 11]
    assert all(score >= 0.2 for _, score in loose)


def test_a_union_without_suggestions_or_a_query_without_words_finds_nothing(
    stored: list[tuple[int, str]],
) -> None:
    assert rank(terms("空压机余热"), []) == []
    assert rank([], stored) == []
    assert rank(terms("空压机余热"), [(1, "")]) == []


def test_a_unions_first_suggestion_can_already_be_found() -> None:
    first = [(1, index_terms(*FACTORY[1]))]
    assert similar("空压机余热回收", first) == [1]


def test_documents_may_be_a_one_pass_iterator(stored: list[tuple[int, str]]) -> None:
    assert [number for number, _ in rank(terms("空压机余热"), iter(stored))] == [1]


def test_warm_up_from_many_threads_at_once() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            warm_up()
            assert "空压机" in terms("空压机余热回收")
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_importing_and_warming_up_is_silent(tmp_path: Path) -> None:
    # A fresh interpreter, or jieba would already be loaded by the tests above; an empty bytecode
    # cache, so Python compiles jieba's sources again as it does on a read-only install, which is
    # where its invalid escape sequences warn; and an empty temp dir, so jieba builds its
    # dictionary cache, its noisiest path.
    env = {
        **os.environ,
        "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache"),
        "TMPDIR": str(tmp_path),
    }
    code = "import models.suggestions.similarity as s; s.warm_up(); assert s.terms('空压机余热')"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    [cache] = tmp_path.glob("unionbot-jieba-*/jieba.cache")
    assert not cache.parent.stat().st_mode & 0o077


def test_segmenting_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    warm_up()
    index_terms("空压机余热回收用于浴室热水", FACTORY[1][1])
    assert capfd.readouterr() == ("", "")


# Issue 14, item 12: a member's near copy of the demo union's first suggestion (叉车通道转弯处加装凸面镜).
NEAR_COPY_TITLE = "叉车转弯的地方装个镜子"
NEAR_COPY_MEASURE = "二号库房出口转弯看不见，叉车容易撞人，建议装凸面镜"


@pytest.fixture(scope="module")
def demo() -> list[tuple[int, str]]:
    return [(n, index_terms(idea[3], idea[4])) for n, idea in enumerate(DEMO_SUGGESTIONS, start=1)]


def test_a_close_measure_counts_however_the_title_reads(demo: list[tuple[int, str]]) -> None:
    together = terms(f"{NEAR_COPY_TITLE}\n{NEAR_COPY_MEASURE}")
    # As one text the title's everyday words dilute the measure's match below the threshold ...
    assert rank(together, demo) == []
    assert rank(together, demo, min_score=0)[0][1] == pytest.approx(0.37, abs=0.01)
    # ... while the measure alone says what the first suggestion says.
    [(found, score)] = rank_any([terms(NEAR_COPY_MEASURE), together], demo)
    assert found == 1
    assert score == pytest.approx(rank(terms(NEAR_COPY_MEASURE), demo)[0][1])
    assert score >= DEFAULT_MIN_SCORE


def test_each_suggestion_counts_with_the_query_it_matches_best(stored: list[tuple[int, str]]) -> None:
    queries = [terms("空压机余热"), terms("夜班职工洗澡没有热水"), terms("食堂增加夜班热饭")]
    best: dict[int, float] = {}
    for query in queries:
        for number, score in rank(query, stored, limit=12):
            best[number] = max(score, best.get(number, 0.0))
    expected = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    assert rank_any(queries, stored, limit=12) == expected
    assert rank_any(queries, stored, limit=2) == expected[:2]
    assert rank_any(queries, iter(stored), limit=2) == expected[:2]  # the documents are read once


def test_one_query_ranks_as_rank_does(stored: list[tuple[int, str]]) -> None:
    for text in ("利用空压机余热给职工浴室供热水", "浴室", "职工设备", "ＬＥＤ灯"):
        assert rank_any([terms(text)], stored, limit=12) == rank(terms(text), stored, limit=12)
    assert rank_any([], stored) == rank_any([[]], stored) == []
