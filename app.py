"""Router: the pages of the appeal command center."""

import streamlit as st

st.set_page_config(page_title="诉求指挥中心", page_icon="📡", layout="wide", initial_sidebar_state="collapsed")

kiosk = st.query_params.get("kiosk", "") not in ("", "0", "false")
pages = [
    st.Page("pages/big_screen.py", title="指挥大屏", icon="📺", url_path="big-screen", default=True),
]
st.navigation(pages, position="hidden" if kiosk else "sidebar").run()
