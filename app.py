"""Router: who is looking (``ui.auth.gate``), then the pages they may open."""

from pathlib import Path

import streamlit as st

from ui import auth, boot

# the tab's icon is a local image: an emoji needs an emoji font, and a Material icon would be fetched from the web
ICON = str(Path(__file__).parent / "ui" / "icon.png")
st.set_page_config(page_title="诉求指挥中心", page_icon=ICON, layout="wide", initial_sidebar_state="collapsed")

boot.refuse_on_zone_mismatch()
try:
    principal = auth.gate()  # checks who is looking on every page run; a fragment's own run: auth.live
except Exception as exc:  # noqa: BLE001 - the accounts live in the system of record: say so, no traceback
    auth.cannot_verify(exc)
kiosk = principal is None or principal.is_kiosk or st.query_params.get("kiosk", "") not in ("", "0", "false")
pages = [
    st.Page("pages/big_screen.py", title="指挥大屏", icon=":material/tv:", url_path="big-screen", default=True),
    st.Page("pages/region.py", title="区域下钻", icon=":material/map:", url_path="region"),
    st.Page("pages/compare.py", title="两期对比", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/rankings.py", title="红黑榜", icon=":material/leaderboard:", url_path="rankings"),
    st.Page("pages/alerts.py", title="超期预警与督办", icon=":material/notification_important:", url_path="alerts"),
    st.Page("pages/cases.py", title="工单列表", icon=":material/list_alt:", url_path="cases"),
    st.Page("pages/snapshots.py", title="会议快照", icon=":material/ac_unit:", url_path="snapshots"),
    st.Page("pages/present.py", title="演示模式", icon=":material/slideshow:", url_path="present"),
    st.Page("pages/case.py", title="工单详情", icon=":material/description:", url_path="case", visibility="hidden"),
    st.Page("pages/audit.py", title="审计日志", icon=":material/manage_search:", url_path="audit",
            visibility="visible" if principal is not None and principal.role == "admin" else "hidden"),
]
navigation = st.navigation(pages, position="hidden" if kiosk else "sidebar")
if principal is None:
    boot.run_routed(auth.sign_in_form)
else:
    auth.set_cookie_script()
    if not principal.is_kiosk:
        auth.account_box(principal)
    if principal.is_kiosk and navigation.url_path != "":  # a kiosk shows the big screen (the default page) only
        boot.run_routed(auth.kiosk_refusal)
    else:
        boot.run_routed(navigation.run)
