"""会议快照 (/snapshots): freeze a region's meeting figures at one moment, list the snapshots, open one.

``/snapshots?region=210302&period=custom&from=2026-10-01&to=2026-10-31&as_of=…`` offers to freeze that
view (/region's 冻结本页 link leads here); ``/snapshots?id=N`` opens snapshot N as it was frozen.
"""

from __future__ import annotations

import streamlit as st

from data_access import cached
from ui import boot, params, theme, widgets
from ui import snapshots as snap
from ui.text import plain

boot.ensure_routed()
view = params.read()
theme.apply(view.kiosk)


@widgets.guard
def page() -> None:
    fresh = widgets.current_data()
    if fresh is None:
        return
    key = cached.token(fresh)
    for problem in view.problems:
        st.warning(plain(problem))
    ident = st.query_params.get("id")
    if ident:
        snap.opened(key, ident)
        return
    moment = widgets.moment(fresh, view)
    st.html(snap.CSS)
    st.html(f'<p class="screen-title">会议快照<small> · 冻结讲评会的数字，会后打开仍是同样的数字</small></p>'
            f'<div class="times-line">{widgets.times_line(moment, fresh)}</div>')
    snap.flash()
    snap.freeze_form(key, view, moment)
    snap.listing(key)


page()
