"""The slides' charts and maps as PNG images, drawn with matplotlib (the Agg backend, no display) in a CJK font.

The font is Noto Sans CJK SC (Debian ``fonts-noto-cjk``), found through fontconfig or matplotlib's font list;
without it the Chinese would be drawn as boxes, so ``font()`` refuses with a message saying what to install.
Maps are drawn from the regions' outlines (shapely geometries, from the system of record): no tiles, nothing
fetched from the internet.
"""

from __future__ import annotations

import functools
import io
import subprocess
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402  (no pyplot: its global state is not for a server's threads)

FONT_FAMILY = "Noto Sans CJK SC"
THEMES = {
    "light": {"fg": "#1f2d3d", "muted": "#5b6b7f", "grid": "#d5dde8", "bg": "#ffffff", "received": "#1f6fd1",
              "closed": "#1aa06d", "bar": "#1f6fd1", "red": "#c9302c", "black": "#2b2b2b", "land": "#e6ecf3",
              "edge": "#7d8fa6", "focus": "#1f6fd1"},
    "dark": {"fg": "#e6eefc", "muted": "#9fb2cf", "grid": "#2a3e5c", "bg": "#0b1730", "received": "#3fc1ff",
             "closed": "#52d69a", "bar": "#3fc1ff", "red": "#ff6b6b", "black": "#c7d2e3", "land": "#17294a",
             "edge": "#5a7398", "focus": "#3fc1ff"},
}


class FontMissing(RuntimeError):
    """No CJK font: charts would show boxes instead of Chinese."""


@functools.cache
def font() -> str:
    """The path of the CJK font file, registered with matplotlib."""
    path = None
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", f"{FONT_FAMILY}:lang=zh-cn"], capture_output=True,
                               text=True, timeout=10)
        if found.returncode == 0 and "CJK" in found.stdout:
            path = found.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    if path is None:
        for candidate in font_manager.findSystemFonts():
            if "NotoSansCJK-Regular" in candidate or "NotoSansCJKsc-Regular" in candidate:
                path = candidate
                break
    if path is None:
        raise FontMissing("找不到中文字体 Noto Sans CJK SC：请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）")
    font_manager.fontManager.addfont(path)
    return path


def setup() -> None:
    """matplotlib's settings for the slides: the CJK font, its minus sign, fonts embedded whole in PDFs."""
    font()
    matplotlib.rcParams.update({"font.family": "sans-serif", "font.sans-serif": [FONT_FAMILY, "DejaVu Sans"],
                                "axes.unicode_minus": False, "pdf.fonttype": 42, "svg.fonttype": "none"})


def _colors(theme: str) -> dict:
    return THEMES.get(theme, THEMES["light"])


def _figure(width: float, height: float, theme: str):
    setup()
    c = _colors(theme)
    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.subplots()
    fig.patch.set_facecolor(c["bg"])
    ax.set_facecolor(c["bg"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(c["grid"])
    ax.tick_params(colors=c["muted"], labelsize=13)
    ax.grid(axis="y", color=c["grid"], linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax, c


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", facecolor=fig.get_facecolor(), bbox_inches="tight", pad_inches=0.15)
    return out.getvalue()


def _thousands(ax) -> None:
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(6, integer=True))  # counts: whole ticks only
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))


def trend(days: Sequence, received: Sequence[int], closed: Sequence[int], theme: str = "light",
          size=(9.6, 4.6)) -> bytes:
    """Received and closed per day: two lines."""
    fig, ax, c = _figure(*size, theme)
    ax.plot(days, received, color=c["received"], linewidth=2.6, label="受理")
    ax.plot(days, closed, color=c["closed"], linewidth=2.6, label="办结")
    ax.legend(frameon=False, fontsize=14, labelcolor=c["fg"], loc="upper left", ncols=2)
    ax.set_ylim(bottom=0)
    _thousands(ax)
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%m-%d"))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(8))
    return _png(fig)


def bars(labels: Sequence[str], values: Sequence[float], theme: str = "light", *, colors: Sequence[str] | None = None,
         texts: Sequence[str] | None = None, size=(9.6, 4.6)) -> bytes:
    """Horizontal bars, the first label on top, each with its value written at its end."""
    fig, ax, c = _figure(*size, theme)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color=c["grid"], linewidth=0.8)
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, values, color=list(colors) if colors else c["bar"], height=0.62)
    ax.set_yticks(ys, labels=list(labels), fontsize=15, color=c["fg"])
    top = max([float(v) for v in values] + [1.0])
    ax.set_xlim(0, top * 1.18)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(6, integer=True))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    for y, v, t in zip(ys, values, texts or [f"{v:,.0f}" for v in values]):
        ax.text(float(v) + top * 0.01, y, t, va="center", fontsize=14, color=c["fg"])
    return _png(fig)


def region_map(outlines: Mapping[str, object], focus: str | None, theme: str = "light",
               labels: Mapping[str, str] | None = None, size=(6.4, 5.4)) -> bytes:
    """The outlines (code → shapely geometry), ``focus`` filled in the accent colour, the others pale."""
    from shapely.geometry import MultiPolygon, Polygon

    setup()
    c = _colors(theme)
    fig = Figure(figsize=size, dpi=100)
    ax = fig.subplots()
    fig.patch.set_facecolor(c["bg"])
    ax.set_facecolor(c["bg"])
    ax.set_axis_off()
    for code, geom in outlines.items():
        parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom] if isinstance(geom, Polygon) else []
        for part in parts:
            x, y = part.exterior.xy
            ax.fill(x, y, facecolor=c["focus"] if code == focus else c["land"],
                    edgecolor=c["edge"], linewidth=1.0, alpha=0.9 if code == focus else 1.0)
        if labels and code in labels and not geom.is_empty:
            point = geom.representative_point()
            ax.text(point.x, point.y, labels[code], ha="center", va="center", fontsize=10 if code != focus else 13,
                    color=c["bg"] if code == focus else c["muted"], fontweight="bold" if code == focus else "normal")
    ax.set_aspect(1.0 / max(0.2, _cos_lat(outlines)))
    return _png(fig)


def _cos_lat(outlines: Mapping[str, object]) -> float:
    import math

    ys = [g.centroid.y for g in outlines.values() if not g.is_empty]
    return math.cos(math.radians(sum(ys) / len(ys))) if ys else 1.0
