"""The UI speaks Chinese: every page, as rendered, holds no Latin word outside codes, ids and units."""

from __future__ import annotations

import html
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests import demo
from tests.conftest import ROOT, sign_in

# what may be written in Latin letters on a Chinese screen: file formats, ids and codes (GD2026…, W21030…),
# and words Chinese itself writes in Latin letters, as the demo's appeals do (金鼎KTV, data_access/seed/people.py)
ALLOWED = {"CSV", "Excel", "GCJ", "WGS", "ID", "KTV",
           "PPTX", "PDF", "PageUp", "PageDown", "Esc", "N", "F"}  # file formats, and keys as printed on them (/present)
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
PAGES = ["big_screen.py", "region.py", "alerts.py", "cases.py", "audit.py", "rankings.py", "snapshots.py",
         "compare.py", "present.py"]


def _text_of_html(value: str) -> str:
    value = re.sub(r"<(script|style)\b.*?</\1>", " ", value, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", value))


def visible_texts(at: AppTest) -> list[str]:
    """What a person reads on the page: labels, values, help texts, messages, headers and options."""
    out: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader"):
        out += [getattr(e, "value", "") or "" for e in at.get(kind)]
    out += [_text_of_html(e.proto.body) for e in at.get("html")]
    for m in at.metric:
        out += [m.label, m.value, m.proto.help, m.proto.delta, m.proto.delta_description]
    for kind in ("button", "download_button", "selectbox", "multiselect", "text_input", "date_input", "toggle",
                 "checkbox", "radio", "segmented_control", "tabs"):
        for e in at.get(kind):
            out.append(getattr(e, "label", "") or "")
            out.append(getattr(e.proto, "help", "") or "")
            out += [str(o) for o in getattr(e, "options", []) or []]
    for frame in at.dataframe:
        out += [str(c) for c in frame.value.columns]
    return out


def latin_words(texts: list[str]) -> set[str]:
    found = set()
    for text in texts:
        text = re.sub(r"https?://\S+|/\w[\w/?=&%.\-]*", " ", text)  # links are not read
        for token in TOKEN.findall(text):
            # a token with a digit is a code, an id or a number with its unit (GD2026…, 210302001-JWH, 10km)
            if re.search(r"[A-Za-z]", token) and not re.search(r"\d", token) and token not in ALLOWED:
                found.add(token)
    return found


@pytest.mark.parametrize("text, found", [
    ("按时办结率：closed on or before the deadline", {"closed", "on", "or", "before", "the", "deadline"}),
    ("导出 CSV · 工单 GD20261127000338 · 网格 W210302001001001", set()),
    ('<p class="screen-title">鞍山市</p><script>const tz = "Asia/Shanghai";</script>', set()),
])
def test_the_scan_finds_english_and_lets_codes_pass(text, found):
    assert latin_words([_text_of_html(text)]) == found


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    return demo.build(tmp_path_factory.mktemp("chinese"), appeals=4000, months=2)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["city", "admin"])
def test_every_page_speaks_chinese(demo_env, monkeypatch, page, role):
    if page == "audit.py" and role != "admin":
        pytest.skip("the audit log is for administrators")
    for name, value in demo_env.items():
        monkeypatch.setenv(name, value)
    at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120), role=role)
    if page != "big_screen.py":
        at.switch_page(str(ROOT / "pages" / page))
    if page == "cases.py":
        at.query_params["figure"] = "overdue_open"
    at.run()
    assert not at.exception
    texts = visible_texts(at)
    if page == "present.py":  # every slide is in one HTML document: its text, not its count of elements
        assert "三率与受理量" in " ".join(texts) and "红黑榜" in " ".join(texts)
    else:
        assert len(texts) > 10
    assert latin_words(texts) == set(), page
