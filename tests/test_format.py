"""How numbers, times and audit details are written on screen (ui/format.py, data_access/audit_queries.py),
and that the UI draws no emoji (they are boxes on a machine without an emoji font)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from data_access import audit_queries
from tests.conftest import ROOT
from ui import format as fmt
from ui import widgets


def test_a_styled_table_writes_each_kind_one_way_and_a_missing_value_as_a_dash():
    table = pd.DataFrame({"受理": [1234567, 5], "办结率": [0.97, float("nan")], "每万人": [None, 1355.04],
                          "期望": [2.0, 1793.456]})
    shown = fmt.styled(table, {"受理": fmt.count, "办结率": fmt.rate, "每万人": fmt.per_10k,
                               "期望": fmt.decimal}).to_string().split("\n")
    cells = [line.split() for line in shown[1:] if line.strip()]
    assert cells == [["0", "1,234,567", "97.0%", "—", "2.0"], ["1", "5", "—", "1,355.0", "1,793.5"]]
    assert table.dtypes["受理"].kind == "i"  # the cells stay numbers: headers sort by value


def test_a_count_is_whole_and_rounded():
    assert [fmt.count(v) for v in (1793.5, 1793.4, 1234567, 0, None)] == ["1,794", "1,793", "1,234,567", "0", "—"]


def test_a_table_is_as_high_as_its_rows():
    assert widgets.rows_height(10, 420) == 38 + 35 * 10   # ten rows: no empty eleventh
    assert widgets.rows_height(30, 420) == 420             # more scroll
    assert widgets.rows_height(0, 420) == 38 + 35          # an empty table keeps one row for its message


@pytest.mark.parametrize("value, text", [(12.0, "12.0 小时"), (47.96, "48.0 小时"), (24 * 1500 + 12, "1,500.5 天")])
def test_calendar_hours_have_separators(value, text):
    assert fmt.hours(value) == text


EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u26FF\u2700-\u27BF\u2B00-\u2BFF\uFE0F\u21A9\u21AA]")


def test_the_ui_draws_no_emoji_and_the_navigation_uses_material_icons():
    sources = [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]
    found = {}
    for path in sources:
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # ⚠ (U+26A0) is drawn from the text fonts in every banner; everything else in these ranges is an emoji
            hits = [c for c in EMOJI.findall(line) if c != "\u26a0"]
            if hits:
                found[f"{path.name}:{i}"] = "".join(hits)
    assert not found, found
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    icons = re.findall(r"\bicon=\"([^\"]*)\"", app)
    assert len(icons) >= 6 and all(i.startswith(":material/") and i.endswith(":") for i in icons), icons
    # the tab's icon is a local image (a Material one would be fetched from the web)
    assert "page_icon=ICON" in app and (ROOT / "ui" / "icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("action, target, region, detail, text", [
    ("export", "received", "铁东区", {"kind": "csv", "rows": 232, "file": "x", "filters": {}},
     "导出 受理 CSV · 铁东区 · 232 行"),
    ("export", "overdue_open", None, {"kind": "xlsx", "rows": 12345, "file": "x", "filters": {"category": "供暖"}},
     "导出 超期在办 Excel · 全域 · 12,345 行 · 筛选：类别 供暖"),
    ("export", "督办单", "莲花街道", {"kind": "xlsx", "rows": 3, "file": "督办单"}, "导出 督办单 Excel · 莲花街道 · 3 行"),
    ("case_view", "A0001", "莲花街道", {"personal_data": False}, "查看工单 A0001 · 莲花街道 · 个人信息已脱敏"),
    ("signin_failed", "tiedong", None, {"reason": "bad_password", "ip": "10.0.0.8"},
     "登录失败 · 密码错误 · IP 10.0.0.8"),
    ("signin", None, "铁东区", {"ip": "10.0.0.8", "role": "district"}, "登录 · 区级 · 铁东区 · IP 10.0.0.8"),
    ("supervise", "A0002", "铁东区", {"supervision_id": 7, "level": "district", "reason": "请加快办理",
                                      "due_at": "2026-03-10 18:00:00", "department_code": "D1", "replaces": None},
     "督办工单 A0002 · 区级督办 · 铁东区 · 要求 2026-03-10 18:00 前答复 · 理由：请加快办理"),
    ("user_disable", "lianhua", "莲花街道", {"sessions_ended": 2}, "停用用户 lianhua · 莲花街道 · 结束 2 个登录会话"),
])
def test_an_audit_row_reads_as_a_sentence_with_names(action, target, region, detail, text):
    shown = audit_queries.describe(action, target, region, json.dumps(detail, ensure_ascii=False))
    assert shown == text
    assert "{" not in shown and '"' not in shown


def test_an_unknown_detail_still_reads_without_json():
    shown = audit_queries.describe("export", "received", "铁东区", json.dumps({"kind": "csv", "extra": "x"}))
    assert shown == "导出 受理 CSV · 铁东区 · extra x"
    assert audit_queries.describe("signout", None, None, None) == "退出"


def test_the_audit_page_shows_sentences_and_region_names(tiny_sor, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from data_access import auth
    from tests.conftest import sign_in

    monkeypatch.setenv("APPEALS_DB_URL", str(tiny_sor.url))
    monkeypatch.setenv("APPEALS_ANALYTICS_PATH", str(tmp_path / "analytics.duckdb"))
    auth.audit(tiny_sor, actor="tiedong", action="export", target="received", region_code="101",
               detail={"kind": "csv", "rows": 232, "file": "受理_东区", "filters": {}})
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120), role="admin")
    at.switch_page("pages/audit.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    row = table[table["事件"] == "导出"].iloc[0]
    assert row["区域"] == "东区" and row["详情"] == "导出 受理 CSV · 东区 · 232 行" and row["对象"] == "受理"
    assert not table["详情"].str.contains(r"[{}\"]").any()
