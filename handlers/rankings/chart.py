"""The digest's chart: a bar chart of a level's units, the reader's own unit highlighted.

Drawn with matplotlib's Agg renderer (a bare ``Figure`` saved as PNG: no pyplot, no
display, no global figure state, safe in worker threads) in the CJK font the project installs itself
(``cvttf-NotoSansCJK-Regular``: Noto Sans CJK, every Simplified and Traditional
Chinese glyph), never a font of the machine: a server without Chinese fonts would
otherwise draw empty boxes. Every text of the chart is given that font file
directly, so matplotlib cannot fall back to another; a glyph it lacks raises
:class:`MissingGlyph` instead of drawing a box.

A level may hold hundreds of 班组: the chart shows the best :data:`BARS_MAX` and, when
it is not among them, the reader's own unit as the last bar, with its rank.
Charts are files, one per digest, unit, level view and language, drawn once and
reused: a monthly digest to 100,000 members draws one chart per unit, not per member.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
FONT_FILE = "NotoSansCJKtc-Regular.otf"
BARS_MAX = 15
HIGHLIGHT = "#c0392b"
OTHERS = "#9aa5b1"

# Drawing reuses one figure per number of bars (_template): one chart at a time per process.
_lock = threading.RLock()
_templates: dict[int, tuple[Figure, Axes, BarContainer]] = {}


class MissingGlyph(RuntimeError):
    """A character of the chart's text is not in the font: it would have been drawn as a box."""


@cache
def font_path() -> Path:
    """The CJK font file the project installs (a package of its own), never one of the system."""
    path = Path(str(importlib.resources.files(FONT_PACKAGE) / FONT_FILE))
    if not path.is_file():
        raise FileNotFoundError(f"the chart font {FONT_FILE} is missing from the package {FONT_PACKAGE}")
    return path


@cache
def _font(size: float) -> FontProperties:
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=str(font_path()), size=size)


@dataclass(frozen=True)
class Bar:
    label: str  # the unit, as the reader knows it ("一车间/甲班")
    score: float
    rank: int
    highlighted: bool = False


def chart_bars(rows: Sequence[Bar]) -> list[Bar]:
    """The bars drawn: the best :data:`BARS_MAX`, then the highlighted unit if it is further down."""
    shown = list(rows[:BARS_MAX])
    if not any(bar.highlighted for bar in shown):
        shown.extend(bar for bar in rows[BARS_MAX:] if bar.highlighted)
    return shown


def draw_chart(bars: Sequence[Bar], *, title: str, axis: str, path: Path) -> Path:
    """Draw the chart as a PNG at ``path`` (written whole or not at all) and return the path.

    Raises:
        MissingGlyph: a character of the text is not in the project's font.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    # Laying out the text already looks glyphs up, so everything is drawn under the watch.
    with _lock, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Fast compression: a chart is a few kilobytes either way, and this is most of the time spent.
        _draw(bars, title=title, axis=axis).savefig(partial, format="png", pil_kwargs={"compress_level": 1})
    missing = [str(warning.message) for warning in caught if "missing from font" in str(warning.message)]
    if missing:
        partial.unlink(missing_ok=True)
        raise MissingGlyph("; ".join(sorted(set(missing))))
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    os.replace(partial, path)
    return path


def _template(count: int) -> tuple[Figure, Axes, BarContainer]:
    """A figure with ``count`` bars, built once and redrawn with each chart's figures.

    Building the figure and its axes is a third of a chart's time; only the bars' lengths and
    colours, the labels and the titles change from one chart to the next. Used under the lock.
    """
    found = _templates.get(count)
    if found is not None:
        return found
    # Imported on the first chart: every process loads the handlers, few of them draw.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.2, 1.4 + 0.38 * max(count, 1)), dpi=100)
    axes = figure.subplots()
    positions = list(range(count))
    container = axes.barh(positions, [0.0] * count, height=0.66)
    axes.set_yticks(positions, [""] * count)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xticks([])  # each bar's label carries its score: fewer texts to lay out, in a 16 MB font
    axes.set_title(" ", fontproperties=_font(13))
    axes.set_xlabel(" ", fontproperties=_font(10))
    axes.spines[["top", "right", "bottom"]].set_visible(False)
    _templates[count] = (figure, axes, container)
    return figure, axes, container


def _draw(bars: Sequence[Bar], *, title: str, axis: str) -> Figure:
    figure, axes, container = _template(len(bars))
    # The score in the label rather than a text of its own at each bar: half the texts to lay out.
    labels = [f"{bar.rank}. {bar.label}  {bar.score:.1f}" for bar in bars]
    for rectangle, bar in zip(container.patches, bars, strict=True):
        rectangle.set_width(bar.score)
        rectangle.set_facecolor(HIGHLIGHT if bar.highlighted else OTHERS)
    axes.set_yticks(list(range(len(bars))), labels)
    for label, bar in zip(axes.get_yticklabels(), bars, strict=True):
        label.set_fontproperties(_font(10))
        label.set_color(HIGHLIGHT if bar.highlighted else "black")
    axes.title.set_text(title)
    axes.title.set_fontproperties(_font(13))
    axes.xaxis.label.set_text(axis)
    axes.xaxis.label.set_fontproperties(_font(10))
    # Margins from the longest label rather than tight_layout(), which draws the whole chart twice.
    longest = max(
        (sum(0.55 if character.isascii() else 1 for character in label) for label in labels), default=4
    )
    height = figure.get_figheight()
    figure.subplots_adjust(
        left=min(0.6, 0.03 + longest * 0.0195), right=0.95, top=1 - 0.55 / height, bottom=0.45 / height
    )
    return figure


def chart_dir() -> Path:
    """Where drawn charts are kept: a cache any process on the machine can fill and send from."""
    return Path(tempfile.gettempdir()) / "unionbot-charts"


def cached_chart(
    key: str, bars: Sequence[Bar], *, title: str, axis: str, directory: Path | None = None
) -> Path:
    """The chart for ``key`` (digest, unit, view, language), drawn now unless already drawn.

    The file name also carries a hash of what is drawn, so a chart drawn from other figures
    (a digest recomputed in a test database) is never mistaken for this one.
    """
    digest = hashlib.sha256(repr((title, axis, tuple(bars))).encode()).hexdigest()[:12]
    path = (directory or chart_dir()) / f"{key}-{digest}.png"
    if path.is_file():
        return path
    with _lock:
        if path.is_file():
            return path
        return draw_chart(bars, title=title, axis=axis, path=path)
