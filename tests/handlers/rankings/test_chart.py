"""The chart is drawn in the project's own CJK font: a missing glyph fails, it is never a box."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from handlers.rankings import chart
from handlers.rankings.chart import BARS_MAX, Bar, MissingGlyph, cached_chart, chart_bars, draw_chart

LEVEL = [
    Bar("一车间/甲班", 93.3, 1, highlighted=True),
    Bar("二车间/丙班（节能降耗攻关组）", 40.9, 2),
    Bar("一车间/乙班·機修", 33.3, 3),
]


def test_the_font_is_the_projects_own_not_the_systems() -> None:
    path = chart.font_path()
    assert "site-packages" in path.parts or "dist-packages" in path.parts
    assert path.name == "NotoSansCJKtc-Regular.otf"


def test_chinese_labels_draw_with_no_glyph_missing(tmp_path: Path) -> None:
    # pytest turns every warning into an error, matplotlib's "Glyph … missing from font(s)" too;
    # draw_chart raises MissingGlyph itself as well.
    title = "2026年11月 单位排名：标杆、优秀、达标"
    out = draw_chart(LEVEL, title=title, axis="综合得分", path=tmp_path / "c.png")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 5_000
    assert not list(tmp_path.glob(".*"))  # no partial file left behind


def test_a_font_without_chinese_fails_instead_of_drawing_boxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    latin_only = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    chart._font.cache_clear()
    monkeypatch.setattr(chart, "font_path", lambda: latin_only)
    monkeypatch.setattr(chart, "_templates", {})
    try:
        with pytest.raises(MissingGlyph, match="missing from font"):
            draw_chart(LEVEL, title="单位排名", axis="得分", path=tmp_path / "boxes.png")
    finally:
        chart._font.cache_clear()  # the project's font again for the next chart
    assert not (tmp_path / "boxes.png").exists()


def test_a_long_level_shows_the_best_and_the_readers_own_unit() -> None:
    rows = [Bar(f"班组{n}", 100 - n, n, highlighted=n == 40) for n in range(1, 61)]
    shown = chart_bars(rows)
    assert [bar.rank for bar in shown] == [*range(1, BARS_MAX + 1), 40]


def test_a_chart_is_drawn_once_and_reused(tmp_path: Path) -> None:
    first = cached_chart("2026-11-1-u5-zh_CN", LEVEL, title="单位排名", axis="得分", directory=tmp_path)
    stamp = first.stat().st_mtime_ns
    again = cached_chart("2026-11-1-u5-zh_CN", LEVEL, title="单位排名", axis="得分", directory=tmp_path)
    assert again == first
    assert again.stat().st_mtime_ns == stamp


def test_a_reused_figure_keeps_nothing_of_the_chart_before(tmp_path: Path) -> None:
    first = [Bar("甲班", 90.0, 1, highlighted=True), Bar("乙班", 50.0, 2), Bar("丙班", 10.0, 3)]
    second = [Bar("甲班", 90.0, 1), Bar("乙班", 50.0, 2), Bar("丙班", 10.0, 3, highlighted=True)]
    draw_chart(first, title="十月", axis="得分", path=tmp_path / "a.png")
    again = draw_chart(second, title="十月", axis="得分", path=tmp_path / "b.png")
    fresh_dir = tmp_path / "fresh"
    chart._templates.clear()
    fresh = draw_chart(second, title="十月", axis="得分", path=fresh_dir / "b.png")
    assert again.read_bytes() == fresh.read_bytes()
