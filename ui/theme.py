"""The dark big-screen look: page CSS and the plotly template.

Designed for 1920×1080 with no scrolling. A 3840×2160 wall runs its browser
at 200 % (display scaling, or ``--force-device-scale-factor=2`` for a kiosk
Chromium): the same layout, drawn at twice the resolution. (CSS zoom or
transforms would break the canvas-drawn charts, tables and map.)
"""

from __future__ import annotations

import streamlit as st

BG = "#07142b"
PANEL = "#0d1f3d"
BORDER = "#1d3b66"
TEXT = "#dbe7ff"
MUTED = "#8aa3c7"
ACCENT = "#3fc1ff"
GREEN = "#36cfc9"
RED = "#ff4d4f"
YELLOW = "#fadb14"
BETTER = "#3dd56d"  # a change for the better (a tile's 同比 beside Streamlit's green 环比 arrow)

_BASE_CSS = f"""
<style>
[data-testid="stMainBlockContainer"] {{ padding: 0.6rem 1.1rem 0.2rem 1.1rem; max-width: 100%; }}
[data-testid="stAppViewContainer"] {{ background: radial-gradient(ellipse at top, #0c2450 0%, {BG} 60%); }}
[data-testid="stHeader"] {{ background: transparent; }}
[data-testid="stVerticalBlock"] {{ gap: 0.45rem; }}
[data-testid="stMetric"] {{
  background: linear-gradient(180deg, rgba(23,58,110,.55), rgba(13,31,61,.85));
  border: 1px solid {BORDER}; border-radius: 6px; padding: 6px 12px 4px 12px; }}
[data-testid="stMetricLabel"] p {{ font-size: 0.95rem; color: {MUTED}; }}
[data-testid="stMetricValue"] {{ font-size: 2.05rem; font-weight: 700; color: {ACCENT};
  font-variant-numeric: tabular-nums; line-height: 1.25; }}
.st-key-tile-overdue [data-testid="stMetricValue"] {{ color: {RED}; }}
.st-key-tile-duesoon [data-testid="stMetricValue"] {{ color: {YELLOW}; }}
.st-key-tile-overdue [data-testid="stMetric"] {{ border-color: rgba(255,77,79,.6); }}
.st-key-tile-duesoon [data-testid="stMetric"] {{ border-color: rgba(250,219,20,.5); }}
.panel-title {{ font-size: 1.0rem; font-weight: 600; color: {TEXT}; margin: 0 0 2px 2px;
  border-left: 3px solid {ACCENT}; padding-left: 8px; }}
.panel-title small {{ color: {MUTED}; font-weight: 400; margin-left: 6px; }}
.more-link {{ display: block; text-align: right; font-size: .82rem; color: #3fc1ff; margin: -2px 4px 2px 0; }}
.screen-title {{ font-size: 1.75rem; font-weight: 700; letter-spacing: 2px; color: #ffffff;
  text-shadow: 0 0 12px rgba(63,193,255,.6); margin: 0; line-height: 1.3; }}
.screen-meta {{ color: {MUTED}; font-size: 0.95rem; text-align: right; line-height: 1.35; }}
.screen-meta b {{ color: {TEXT}; }}
.stale {{ color: {YELLOW}; font-weight: 600; }}
.data-banner {{ border-radius: 6px; padding: 6px 14px; font-size: 1.05rem; font-weight: 600; line-height: 1.4; }}
.data-banner small {{ font-weight: 400; margin-left: 8px; opacity: .85; }}
.data-banner.silent {{ background: rgba(255,77,79,.18); border: 1px solid {RED}; color: #ffd6d6; }}
.data-banner.historical {{ background: rgba(250,219,20,.12); border: 1px solid {YELLOW}; color: #fff3b0; }}
.times-line {{ color: {MUTED}; font-size: 0.95rem; }}
.times-line b {{ color: {TEXT}; font-weight: 600; }}
.screen-title small {{ font-size: 1.0rem; font-weight: 400; color: {MUTED}; letter-spacing: 0; text-shadow: none; }}
.crumbs {{ font-size: 0.95rem; color: {MUTED}; }}
.crumbs a {{ color: {ACCENT}; text-decoration: none; }}
[class*="st-key-tile-"] {{ position: relative; }}
.tile-link {{ position: absolute; right: 10px; bottom: 6px; font-size: .8rem; line-height: 1; }}
.tile-link a {{ color: {ACCENT}; text-decoration: none; }}
.tile-note {{ font-size: 0.8rem; color: {MUTED}; margin-top: -4px; }}
.tile-note a {{ color: {ACCENT}; }}
.chg {{ font-weight: 600; white-space: nowrap; }}
.chg.better {{ color: {BETTER}; }}
.chg.worse {{ color: {RED}; }}
.chg.flat {{ color: {MUTED}; font-weight: 400; }}
.period-label {{ color: {TEXT}; font-size: 0.95rem; white-space: nowrap; }}
.worker {{ font-size: 1.05rem; padding: 6px 10px; border: 1px solid {BORDER}; border-radius: 6px; }}
table.norm td {{ padding: 2px 12px 2px 0; color: {TEXT}; }}
.legend {{ display: flex; gap: 0; align-items: center; font-size: .8rem; color: {MUTED}; }}
.legend span.sw {{ display: inline-block; width: 28px; height: 10px; }}
.legend span.lb {{ margin: 0 6px; }}
.tbl-wrap {{ overflow: auto; max-width: 100%; border: 1px solid {BORDER}; border-radius: 6px;
  background: rgba(13,31,61,.6); }}
table.tbl {{ width: 100%; border-collapse: collapse; font-size: .88rem; color: {TEXT}; margin: 0; }}
table.tbl th {{ position: sticky; top: 0; z-index: 1; background: #10284d; color: {MUTED}; font-weight: 600;
  text-align: left; padding: 5px 6px; white-space: normal; word-break: keep-all; border: none; }}
table.tbl td {{ padding: 4px 6px; border: none; border-top: 1px solid rgba(29,59,102,.8); white-space: nowrap; }}
table.tbl .num {{ text-align: right; font-variant-numeric: tabular-nums; }}
table.tbl td.wide {{ white-space: normal; min-width: 18em; }}
table.tbl span.clip {{ display: block; max-width: 4em; overflow: hidden; text-overflow: ellipsis; }}
table.tbl a {{ color: {ACCENT}; text-decoration: none; }}
table.tbl a:hover {{ text-decoration: underline; }}
table.tbl tr.red td {{ background: rgba(255,77,79,.28); }}
table.tbl tr.yellow td {{ background: rgba(250,219,20,.30); }}
table.tbl tr.new-red td {{ background: rgba(255,77,79,.38); color: #ffffff; font-weight: 600; }}
</style>
"""

_KIOSK_CSS = """
<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stStatusWidget"], [data-testid="stDecoration"],
[data-testid="stAppDeployButton"], [data-testid="stMainMenu"], [data-testid="stElementToolbar"],
footer { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 0.5rem; }
</style>
"""


# Streamlit's header (transparent in the dark theme) lies over the first 3.75 rem and takes the clicks:
# outside kiosk mode every page, the big screen too, starts below it, so its first controls can be clicked.
# Staff screens are as narrow as a laptop's 1366 px: below 1600 px rows of tiles wrap four to a row, the
# big screen's panels stack (charts, map, tables, each the full width) and its period selector keeps the
# width its six options need; the page scrolls.
_HEADER_ROOM = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.75rem; }
.st-key-screen-head > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"]
  > [data-testid="stColumn"]:last-child { min-width: 400px; }
@media (max-width: 1600px) {
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [class*="st-key-tile-"]) { flex-wrap: wrap; }
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [class*="st-key-tile-"]) > [data-testid="stColumn"] {
    min-width: calc(25% - 1rem); }
  .st-key-screen-panels > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
  .st-key-screen-panels > [data-testid="stLayoutWrapper"] > [data-testid="stHorizontalBlock"]
    > [data-testid="stColumn"] { min-width: 100%; }
}
</style>
"""


# A page re-run fades what it is redrawing (Streamlit's "stale" look). The big screen redraws itself every
# refresh: on a wall that reads as the whole screen dimming once a minute, so it keeps full strength.
_NO_STALE_FADE = """
<style>
[data-stale="true"] { opacity: 1 !important; transition: none !important; }
</style>
"""


def apply(kiosk: bool, *, big_screen: bool = False) -> None:
    """The page CSS. A kiosk hides Streamlit's header and fits 1080 px; for staff the header stays (the menu,
    the sidebar's button) and every page, the big screen too, starts below it: the header would otherwise
    take the clicks meant for the first row (the big screen's period selector). Staff pages scroll."""
    extra = _KIOSK_CSS if kiosk else _HEADER_ROOM
    st.html(_BASE_CSS + extra + (_NO_STALE_FADE if big_screen else ""))


def plotly_layout(height: int, **extra) -> dict:
    layout = dict(
        template="plotly_dark",
        height=height,
        margin=dict(l=8, r=8, t=6, b=6),
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(color=TEXT, size=12),
        showlegend=False,
    )
    layout.update(extra)
    return layout


PLOTLY_CONFIG = {"displayModeBar": False, "responsive": True}
