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
from streamlit.runtime.pages_manager import PagesManager

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
