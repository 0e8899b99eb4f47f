"""Every page run goes through app.py's ``st.navigation``.

Streamlit treats an app with a ``pages/`` folder as an old-style multipage app
(each file run on its own, with a menu built from the file names) until some
session has run ``st.navigation`` since the server started. A first visitor
who opens ``/region`` would get that: no page config, a wrong menu. Each page
calls ``ensure_routed()`` first: run outside app.py, it switches Streamlit to
``st.navigation`` for good and reruns, which then goes through app.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import streamlit as st

from data_access import cached, cityzone
from streamlit.runtime.pages_manager import PagesManager

from .text import plain

_local = threading.local()


def run_routed(run: Callable[[], None]) -> None:
    """Run the current page as app.py's router does (sessions run in threads of their own)."""
    _local.routed = True
    try:
        run()
    finally:
        _local.routed = False


def ensure_routed() -> None:
    if not getattr(_local, "routed", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def refuse_on_zone_mismatch() -> None:
    """Serve nothing when APPEALS_TZ disagrees with the zone stored with the data: every time would be wrong."""
    try:
        cached.settings()
    except cityzone.ZoneMismatch as exc:
        stored, configured = plain(exc.stored), plain(exc.configured)
        st.error(f"时区设置冲突，无法显示：诉求数据库记录的城市时区是 {stored}，"
                 f"而本服务进程的 APPEALS_TZ 是 {configured}。数据库中的时间均为 {stored} 的当地时间。"
                 f"请取消 APPEALS_TZ 或将其改为 {stored} 后重启服务。")
        st.stop()
