"""Router: the pages of the appeal command center."""

import streamlit as st

from ui import boot

st.set_page_config(page_title="诉求指挥中心", page_icon="📡", layout="wide", initial_sidebar_state="collapsed")

kiosk = st.query_params.get("kiosk", "") not in ("", "0", "false")
pages = [
    st.Page("pages/big_screen.py", title="指挥大屏", icon="📺", url_path="big-screen", default=True),
    st.Page("pages/region.py", title="区域下钻", icon="🗺️", url_path="region"),
    st.Page("pages/cases.py", title="工单列表", icon="📋", url_path="cases"),
    st.Page("pages/case.py", title="工单详情", icon="📄", url_path="case", visibility="hidden"),
]
boot.run_routed(st.navigation(pages, position="hidden" if kiosk else "sidebar").run)
