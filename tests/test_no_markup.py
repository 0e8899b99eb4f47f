"""Nothing from a URL or from the data is rendered as Markdown or HTML.

Streamlit renders Markdown in messages, captions, metric labels and values,
help texts, widget labels, tabs and expanders; ``st.html`` renders HTML;
plotly renders a subset of HTML in tick labels, legends, bar texts and hover
texts; deck.gl writes a tooltip's ``html`` into the page as HTML. A value such
as ``[点我](http://evil.example/x)`` in the URL or ``<a href=…>链</a>`` as a
category must show as those characters there, and nowhere become a link, an
image, a colour, maths or a tag.

* ``plain`` and ``markup`` (``ui/text.py``) on their own, read by a reader
  of Markdown written here (not by the helper);
* a scan of the source of ``pages/`` and ``ui/``: every value reaching a
  Markdown call goes through ``plain`` (or is a number), so a slip fails here;
* the category and channel charts and the map tooltips built from hostile
  names;
* every page through AppTest, with hostile values in every URL parameter it
  reads, and a demo city whose category, subcategory, channel, district,
  street, department, complaint text, address and name are hostile.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from google.protobuf.json_format import MessageToDict
from sqlalchemy import func, select, update
from streamlit.testing.v1 import AppTest

from data_access import schema
from data_access.clock import local_now
from data_access.store import make_engine
from tests import demo
from tests.conftest import CITY_TZ, ROOT, sign_in
from ui import charts, maps
from ui.text import markup, plain

pytestmark = pytest.mark.attack("injection")

# what a tester put into URLs (issue 12, item 4)
PAYLOADS = [
    "[点我](http://evil.example/x)",
    "![b](http://evil.example/x.png)",
    "<img src=http://evil.example/y.png>",
    ":red[红]",
    "**粗**",
    "$x^2$",
]
# and more of what Markdown and Streamlit make of text
MORE = [
    "www.evil.example/z", "http://evil.example/bare", "mail me: a@evil.example", "`code`", "~~删~~", "_斜_",
    "&lt;img src=x&gt;", "&#x3C;b&#x3E;", "- 列表", "+ 列表", "1. 有序", "3) 有序", "# 标题", "> 引用", "---",
    "a | b", ":material/home: 图标", ":material_home:", ":streamlit:", ":smile: :+1: :100:", ":help[提示]",
    ":small[小]", ":blue-background[蓝]", "a -> b <- c <-> d -- e >= f <= g ~= h", "<script>alert(1)</script>",
    "\\[转义\\]", "line\n\n    code block\n===", "$$x$$", "[a]: http://evil.example/ref\n[a]", "<http://evil.example>",
    "  缩进", "\t制表", "2026-11-22 10:30:00", "9999-12-31T23:59:59", "' OR 1=1 --",
]

# ------------------------------------------------- reading Markdown ---
# A reader of Markdown as Streamlit's renderer parses it (CommonMark, GitHub's extensions, maths, directives),
# written here and not taken from ui/text.py: a backslash before ASCII punctuation makes that character text.

_PUNCT = set(string.punctuation)
_JOIN = "\u2060"


def _chars(md: str) -> list[tuple[str, bool]]:
    """Each character of ``md`` as shown, and whether it is live (could take part in syntax)."""
    out, i = [], 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md) and md[i + 1] in _PUNCT:
            out.append((md[i + 1], False))
            i += 2
        else:
            out.append((md[i], True))
            i += 1
    return out


def shown(md: str) -> str:
    """The characters a person reads (escapes resolved, invisible joiners left out)."""
    return "".join(c for c, _ in _chars(md)).replace(_JOIN, "")


_LIVE = {  # syntax, in the live characters (escaped ones are masked)
    "link or image": re.compile(r"\]\(|\]\[|^\s*\[[^\]]*\]:", re.M),
    "raw HTML or autolink": re.compile(r"<[A-Za-z/!?]"),
    "directive": re.compile(r":[A-Za-z][\w-]*"),
    "emphasis": re.compile(r"\*|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"),
    "maths": re.compile(r"\$"),
    "strikethrough": re.compile(r"~"),
    "code": re.compile(r"`"),
    "entity": re.compile(r"&#?[A-Za-z0-9]+;"),
    "URL autolink": re.compile(r"(?i)https?:|www\.|[\w.+-]@[\w-]"),
    "table": re.compile(r"\|"),
    "block at a line's start": re.compile(r"^(?:[ ]{0,3}(?:[-+*](?=[ \t]|$)|#{1,6}(?=[ \t]|$)|>|\d{1,9}[.)](?=[ \t]|$)"
                                          r"|(?:[-*_][ \t]*){3,}$|=+[ \t]*$)|[ ]{4}|[ ]{0,3}\t)", re.M),
}
_AFTER_PARSE = {  # what is rewritten in the text after parsing, where escapes are gone (as a browser shows)
    "Material icon": re.compile(r":material[_/]\w+:"),
    "Streamlit logo": re.compile(r":streamlit:"),
    "typographic arrow": re.compile(r"(?<!\S)(<->|->|<-|--|>=|<=|~=)(?!\S)"),
    "emoji shortcode": re.compile(r":(?:[+-]1|\d*[A-Za-z_][\w+-]*|\d{3,}):"),
    "URL autolink literal": re.compile(r"(?i)(https?://|www\.)[-.\w]"),
    "e-mail autolink literal": re.compile(r"[-.\w+]@[-\w]+\.[-\w]"),
}


def live_markup(md: str, *, start_of_line: bool = True) -> list[str]:
    """The Markdown constructs ``md`` would render (empty: it shows as its characters)."""
    masked = "".join(c if live else "\x00" for c, live in _chars(md))
    if not start_of_line:  # a value in the middle of a line cannot open a block
        masked = "\x00" + masked
    found = [name for name, pattern in _LIVE.items() if pattern.search(masked)]
    text = "".join(c for c, _ in _chars(md))
    return found + [name for name, pattern in _AFTER_PARSE.items() if pattern.search(text)]


NOT_MARKDOWN = {"2026-11-22 10:30:00", "9999-12-31T23:59:59", "  缩进"}


@pytest.mark.parametrize("value", PAYLOADS + MORE)
def test_the_reader_finds_what_markdown_makes_of_each_value(value):
    """The reader can fail: each hostile value, written into Markdown as it is, is read as syntax (or shows
    other characters than it holds)."""
    changed = bool(live_markup(value)) or shown(value) != value
    assert changed == (value not in NOT_MARKDOWN), (value, live_markup(value))


@pytest.mark.parametrize("value", PAYLOADS + MORE)
def test_plain_shows_exactly_the_characters(value):
    written = plain(value)
    assert live_markup(written) == [] and "\n" not in written, (value, written)  # one line: no block of its own
    assert live_markup(f"工单 “{written}” 不存在", start_of_line=False) == []
    assert shown(written) == re.sub(r"\s+", " ", value), (value, written)


def test_plain_leaves_ordinary_text_as_it_is():
    for text in ("铁东区", "办结率 · 近30天", "2026-11-22 10:30", "23:59:59", "1,234", "96.7%", "NO-SUCH-DEPT",
                 "时间段 0001-01-01 至 9999-12-31 超出可显示的日期范围（1900-01-01 至 2199-12-31），已改为近30天"):
        assert plain(text) == text
    assert plain(None) == "" and plain(12) == "12"


@pytest.mark.parametrize("value", PAYLOADS + MORE)
def test_markup_shows_html_as_text(value):
    parser = _Tags()
    parser.feed(markup(value))
    assert not parser.tags and html.unescape(markup(value)) == value


# ------------------------------------------------ the source scan ---
# Every call that renders Markdown, and which of its arguments do.
BODY_CALLS = {"error", "warning", "info", "success", "toast", "markdown", "caption", "write", "title", "header",
              "subheader"}
LABEL_CALLS = {"metric", "expander", "popover", "button", "download_button", "form_submit_button", "link_button",
               "page_link", "checkbox", "toggle", "radio", "selectbox", "multiselect", "segmented_control", "pills",
               "text_input", "text_area", "number_input", "date_input", "time_input", "datetime_input", "slider",
               "select_slider", "file_uploader", "color_picker", "tabs", "chat_input", "feedback"}
OPTION_CALLS = {"radio", "segmented_control", "pills"}  # their options (and format_func's texts) render Markdown
NOT_STREAMLIT = {"logging", "logger", "log", "LOG", "os", "sys", "re", "f", "fh", "out", "buffer", "self"}
# formatters of numbers, times and durations (ui/format.py): what they write holds no Markdown
FORMATTER_MODULES = {"fmt"}
# functions whose keyword arguments (``**f(…)``) may go to a Markdown call: they write only numbers
SPLATS = {"metric_change": "ui/region.py: a change between two figures, written from the numbers, and 同比"}
# what may reach Markdown without ``plain``, and why
EXEMPT = {
    ("ui/auth.py", "str(exc)"): "sign-in failures: data_access.auth.authenticate raises the same fixed sentences "
                                "whatever was typed (see its fail()), never a value from the URL or the data",
}


def _numeric_spec(spec: ast.AST | None) -> bool:
    """A format spec that only numbers or times accept (``:,``, ``.1f``, ``%Y-%m-%d``): a text would raise."""
    if spec is None:
        return False
    if not (isinstance(spec, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in spec.values)):
        return False
    text = "".join(v.value for v in spec.values)
    return not re.fullmatch(r"(.?[<>^=])?[+\- ]?#?0?\d*(\.\d+)?s?", text)


def _constant_name(node: ast.AST) -> bool:
    """A module's constant: ``LEVEL_LABELS``, ``region.MAP_METRICS``, ``params.PERIOD_LABELS[…][0]``."""
    while isinstance(node, ast.Subscript):
        node = node.value
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return bool(re.fullmatch(r"_?[A-Z][A-Z0-9_]*", name))


def safe(node: ast.AST | None, env: dict | None = None, seen: frozenset = frozenset()) -> bool:
    """True when what ``node`` writes into Markdown holds only the author's text, ``plain``'s output, or
    numbers and times. ``env``: what each local name of the function is assigned (``_bindings``)."""
    env = env or {}

    def ok(n):
        return safe(n, env, seen)

    if node is None or isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or ok(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        return _numeric_spec(node.format_spec) or ok(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return ok(node.left) and ok(node.right)
    if isinstance(node, ast.IfExp):
        return ok(node.body) and ok(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(ok(v) for v in node.values)
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(ok(e) for e in node.elts)
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
        return ok(node.elt)
    if isinstance(node, ast.Subscript):
        return _constant_name(node)
    if isinstance(node, ast.Name):
        if _constant_name(node):
            return True
        values = env.get(node.id)  # a local name: safe when everything it is assigned is
        return (bool(values) and None not in values and node.id not in seen
                and all(safe(v, env, seen | {node.id}) for v in values))
    if isinstance(node, ast.Attribute):
        if node.attr == "__name__":  # type(exc).__name__: a class name
            return True
        return _constant_name(node)
    if isinstance(node, ast.Call):
        fn = node.func
        name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
        if name in ("plain", "len"):
            return True
        if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) and fn.value.id in FORMATTER_MODULES:
            return True
        if name == "get" and isinstance(fn, ast.Attribute) and (_constant_name(fn.value)
                                                               or isinstance(fn.value, ast.Dict)):
            return len(node.args) < 2 or ok(node.args[1])  # a label of a constant table, or a safe default
        if name == "join" and isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Constant):
            return all(ok(a) for a in node.args)
        if name == "list" and node.args and _constant_name(node.args[0]):
            return True  # the keys of a constant table
    return False


def _safe_function(node: ast.AST | None, env: dict) -> bool:
    """A format_func whose texts are safe: a constant table's ``.get``, or a lambda whose result is safe."""
    if isinstance(node, ast.Attribute) and node.attr in ("get", "__getitem__"):
        return _constant_name(node.value) or isinstance(node.value, ast.Dict)
    if isinstance(node, ast.Lambda):
        return safe(node.body, env)
    return False


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _own_nodes(scope: ast.AST):
    """The nodes of a function (or a module) outside the functions defined in it."""
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))


def _bindings(scope: ast.AST) -> dict[str, list]:
    """What each name of a scope is assigned; None for a binding the scan cannot follow (an argument, a loop
    variable, an unpacked call…), which makes the name unsafe."""
    env: dict[str, list] = {}

    def bind(target, value):
        if isinstance(target, ast.Name):
            env.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(
                target.elts) else [None] * len(target.elts)
            for t, v in zip(target.elts, values):
                bind(t, v)

    if isinstance(scope, _SCOPES):
        for arg in ast.walk(scope.args):
            if isinstance(arg, ast.arg):
                env.setdefault(arg.arg, []).append(None)
    for node in _own_nodes(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            bind(node.target, node.value)
        elif isinstance(node, (ast.For, ast.comprehension)):
            bind(node.target, None)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            bind(node.optional_vars, None)
        elif isinstance(node, ast.NamedExpr):
            bind(node.target, node.value)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                env.setdefault((alias.asname or alias.name).split(".")[0], []).append(None)
    return env


def _imported_modules(tree: ast.AST) -> set[str]:
    """The names a file binds to imported modules (``widgets``, ``ui``, ``fmt``…): their ``header`` or
    ``title`` are the project's own functions, not Streamlit's."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names - {"st", "streamlit"}


def unsafe_markdown(source: str, path: str = "<snippet>") -> list[str]:
    """Each argument in ``source`` that reaches Markdown with a value not written by ``plain``."""
    tree = ast.parse(source)
    skip = NOT_STREAMLIT | _imported_modules(tree)
    found = []
    for scope in [tree, *(n for n in ast.walk(tree) if isinstance(n, _SCOPES))]:
        env = _bindings(scope)
        for node in _own_nodes(scope):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                found += _check_call(node, env, skip, path)
    return sorted(set(found), key=lambda f: (f.split(":")[0], int(f.split(":")[1])))


def _check_call(node: ast.Call, env: dict, skip: set[str], path: str) -> list[str]:
    method, receiver = node.func.attr, node.func.value
    if method not in BODY_CALLS | LABEL_CALLS or not (node.args or node.keywords):
        return []
    if isinstance(receiver, ast.Name) and receiver.id in skip:
        return []
    found = []
    keywords = {k.arg: k.value for k in node.keywords if k.arg is not None}
    if method == "write":
        checked = list(node.args)
    elif method == "metric":
        checked = node.args[:3] + [keywords.get(k) for k in ("value", "delta", "delta_description")]
    elif method == "page_link":
        checked = []
    else:
        checked = node.args[:1]
    checked += [keywords.get(k) for k in ("body", "label", "help", "captions")]
    if method in OPTION_CALLS:
        format_func = keywords.get("format_func")
        if format_func is None:
            checked += node.args[1:2] + [keywords.get("options")]
        elif not _safe_function(format_func, env):
            found.append(f"{path}:{node.lineno}: {method}(format_func={ast.unparse(format_func)})")
    for kw in node.keywords:
        if kw.arg is None and not (isinstance(kw.value, ast.Call) and isinstance(kw.value.func, ast.Name)
                                   and kw.value.func.id in SPLATS):
            found.append(f"{path}:{node.lineno}: {method}(**{ast.unparse(kw.value)})")
    for arg in checked:
        if arg is not None and not safe(arg, env) and (path, ast.unparse(arg)) not in EXEMPT:
            found.append(f"{path}:{node.lineno}: {method}({ast.unparse(arg)})")
    return found


def test_the_scan_catches_a_value_that_skips_plain():
    """The scan itself: a value from the URL or the data, unescaped, in any of the ways it could be written."""
    slips = [
        'st.error(f"工单 “{appeal_id}” 不存在")',
        "st.warning(problem)",
        'st.error(str(exc))',
        'st.info(f"以下统计（{scope_name} · {chosen}）")',
        'left.caption("共 " + name)',
        'st.metric(label, fmt.count(v))',
        'st.metric("受理", value)',
        'st.metric("受理", "1", help=_help(name))',
        'st.metric("受理", "1", **kwargs)',
        'column.selectbox(f"进入{name}", codes)',
        'st.tabs(["预警", name])',
        'st.expander(title)',
        'st.download_button(label, data, help=note)',
        'st.radio("范围", options)',
        'st.radio("范围", range(3), format_func=labels.__getitem__)',
        'st.segmented_control("时间", keys, format_func=lambda k: names[k])',
        'st.caption(f"{SUPERVISION_LEVELS.get(held, held)}级")',
        'st.warning(f"页 {page_text[:20]} 无效")',
        'st.warning(f"页 {page_no} 无效")',
        'st.warning(f"页 {page_no:>5} 无效")',
        'st.page_link("/x", label=name)',
        'def f(name):\n    st.error(f"区域 {name}")',
        'for problem in view.problems:\n    st.warning(problem)',
        'message = f"区域 {code}"\nst.error(message)',
        'message = "区域"\nmessage = view.region\nst.error(message)',
        'a, b = plain(x), y\nst.error(f"{a}{b}")',
        'stored, configured = exc.args\nst.error(stored)',
    ]
    for slip in slips:
        assert unsafe_markdown(slip), slip
    fine = [
        'st.error(f"工单 “{plain(appeal_id)}” 不存在")',
        "st.warning(plain(problem))",
        'st.info(f"共 {len(rows):,} 件，截至 {as_of:%Y-%m-%d %H:%M}，第 {page:d} 页，{fmt.count(n)}")',
        'st.metric(plain(label), plain(value), help=plain(note), **metric_change(ind, yoy, "同比"))',
        'st.selectbox(f"进入{LEVEL_LABELS[level]}", codes, format_func=lambda c: names[c])',
        'st.tabs(["预警工单", "按单位与街道"])',
        'st.radio("范围", range(3), format_func=lambda i: plain(labels[i]), captions=[f"{n:,} 件" for n in ns])',
        'st.segmented_control("时间", list(PERIOD_LABELS), format_func=params.PERIOD_LABELS.get)',
        'st.segmented_control("方向", ["desc", "asc"], format_func={"desc": "降序", "asc": "升序"}.get)',
        'st.caption(f"{SUPERVISION_LEVELS.get(held, plain(held))}级")',
        'st.error(f"页面出错（{type(exc).__name__}）")',
        'logging.info(f"x {value}")',
        'message = f"区域 {plain(code)}"\nst.error(message)',
        'a, b = plain(x), f"{n:,}"\nst.error(f"{a}{b}")',
        'note = (f"共 {n:,} 件" if big else "导出" + ("" if shown else "，已脱敏"))\nst.download_button("CSV", d, help=note)',
        'from ui import widgets\nwidgets.header(f"{scope_name} · 指挥中心", scope_name)',
    ]
    for ok in fine:
        assert not unsafe_markdown(ok), ok


def test_every_value_reaching_markdown_goes_through_plain():
    files = sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
    assert len(files) > 10
    found = []
    for path in files:
        found += unsafe_markdown(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, "values reach Markdown without ui.text.plain:\n" + "\n".join(found)


# ------------------------------------------------- charts and maps ---
CATEGORY = '<a href="http://evil.example/c">链</a>'
SUBCATEGORY = "![b](http://evil.example/s.png)"
CHANNEL = "<b>热线</b>"
DISTRICT = "<img src=http://evil.example/d.png>铁东"
STREET = "[点我](http://evil.example/r)"
DEPARTMENT = ":red[红] **部门** $x^2$"
SUMMARY = "$x^2$ <img src=http://evil.example/t.png> [链](http://evil.example/t)"
ADDRESS = "[地址](http://evil.example/a)"
NAME = "**粗**"
RAW_TAG = re.compile(r"<\s*(a|img|b|i|span|br|script|svg|iframe)\b", re.I)


def _strings(value, path=()):
    """Every string in a JSON value, with the keys that lead to it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, path)


def figure_problems(spec: dict) -> list[str]:
    """Tags from the data in a plotly figure's rendered texts (``customdata`` is data, shown only through a
    template, so no template may name it)."""
    problems = []
    for path, text in _strings(spec):
        if "customdata" in path:
            continue
        if path and path[-1] in ("hovertemplate", "texttemplate"):
            if "customdata" in text:
                problems.append(f"{'.'.join(map(str, path))} shows customdata: {text}")
            continue
        if RAW_TAG.search(text):
            problems.append(f"{'.'.join(map(str, path))}: {text}")
    return problems


def test_the_category_and_channel_charts_escape_their_names():
    cats = pd.DataFrame({"category": [CATEGORY, "供暖", SUBCATEGORY], "received": [30, 20, 10]})
    chans = pd.DataFrame({"channel": [CHANNEL, "hotline", '<img src="http://evil.example/i.png">'],
                          "received": [5, 40, 3]})
    cat_fig = charts.categories(cats, 300).to_plotly_json()
    chan_fig = charts.channel_bars(chans, 300).to_plotly_json()
    assert figure_problems(json.loads(json.dumps(cat_fig, default=list))) == []
    assert figure_problems(json.loads(json.dumps(chan_fig, default=list))) == []
    # shown as its characters: escaped, which plotly reads back to the name
    assert CATEGORY in [html.unescape(y) for y in cat_fig["data"][0]["y"]]
    assert CHANNEL in [html.unescape(y) for y in chan_fig["data"][0]["y"]]
    # a click still hands over the category as written in the data
    assert CATEGORY in [row[0] for row in cat_fig["data"][0]["customdata"]]
    assert CHANNEL in [row[0] for row in chan_fig["data"][0]["customdata"]]


def test_the_checks_of_figures_find_a_tag():
    assert figure_problems({"data": [{"y": [CATEGORY]}]})
    assert figure_problems({"data": [{"hovertemplate": "%{customdata[0]}"}]})


def deck_problems(deck: dict, tooltip: dict | str) -> list[str]:
    """Values a deck.gl tooltip would write into the page as HTML, unescaped."""
    tooltip = json.loads(tooltip) if isinstance(tooltip, str) else tooltip
    fields = re.findall(r"{(\w+)}", (tooltip or {}).get("html", "") or "")
    problems = []
    for layer in deck.get("layers", []):
        if not layer.get("pickable"):  # deck.gl shows tooltips only for what it can pick
            continue
        data = layer.get("data") or []
        records = data.get("features", []) if isinstance(data, dict) else data
        for record in records if isinstance(records, list) else []:
            props = record.get("properties", record) if isinstance(record, dict) else {}
            for field in fields:
                value = props.get(field)
                if isinstance(value, str) and ("<" in value or ">" in value):
                    problems.append(f"{layer.get('id')}.{field}: {value}")
    return problems


def test_map_tooltips_escape_the_names_they_show():
    feats = [{"type": "Feature", "geometry": None, "properties": {"code": "1", "name": DISTRICT, "fill": [1, 2, 3]}},
             {"type": "Feature", "geometry": None, "properties": {"code": "2", "name": "铁西区"}}]
    deck = {"layers": [{"id": "choropleth", "pickable": True, "data": feats}]}
    assert deck_problems(deck, maps.TOOLTIP)  # the check finds the raw name
    shown_feats = maps.for_tooltip(feats)
    assert deck_problems({"layers": [{"id": "choropleth", "pickable": True, "data": shown_feats}]}, maps.TOOLTIP) == []
    assert [f["properties"]["name"] for f in shown_feats] == ["&lt;img src=http://evil.example/d.png&gt;铁东", "铁西区"]
    assert shown_feats[0]["properties"]["code"] == "1" and feats[0]["properties"]["name"] == DISTRICT
    points = pd.DataFrame({"appeal_id": ["A<1>"], "category": [CATEGORY], "lon": [1.0], "lat": [2.0]})
    tooltip = {"html": "<b>{appeal_id}</b><br/>{category}"}
    escaped = maps.points_for_tooltip(points, tooltip)
    assert escaped.to_dict("records")[0] == {"appeal_id": "A&lt;1&gt;",
                                             "category": '&lt;a href="http://evil.example/c"&gt;链&lt;/a&gt;',
                                             "lon": 1.0, "lat": 2.0}


# ------------------------------------------------------- the pages ---

def hostile_city(folder: Path, appeals: int = 3_000) -> dict:
    """A small demo city whose names and texts are hostile: the environment that points the dashboard at it,
    and the codes of the hostile district, street, grid, department and an appeal of the hostile category."""
    end = local_now(CITY_TZ).replace(second=0, microsecond=0)
    env = demo.build(folder, appeals=appeals, months=2, end=end)
    engine = make_engine(env["APPEALS_DB_URL"])
    a, r, d = schema.appeals, schema.regions, schema.departments
    with engine.begin() as conn:
        top = conn.execute(select(a.c.category).group_by(a.c.category)
                           .order_by(func.count().desc()).limit(1)).scalar_one()
        conn.execute(update(a).where(a.c.category == top).values(
            category=CATEGORY, subcategory=SUBCATEGORY, summary=SUMMARY, address=ADDRESS, appellant_name=NAME))
        some = conn.execute(select(a.c.appeal_id).order_by(a.c.appeal_id).limit(appeals // 8)).scalars().all()
        conn.execute(update(a).where(a.c.appeal_id.in_(some)).values(channel=CHANNEL, channel_label=CHANNEL))
        district = conn.execute(select(r.c.code).where(r.c.level == "district").order_by(r.c.code)).scalars().first()
        street = conn.execute(select(r.c.code).where(r.c.parent_code == district).order_by(r.c.code)).scalars().first()
        conn.execute(update(r).where(r.c.code == district).values(name=DISTRICT))
        conn.execute(update(r).where(r.c.code == street).values(name=STREET))
        # a department with overdue appeals in the district (so the warning page offers it), and among those
        # the busiest there (so the district's department table, its 30 busiest, lists it)
        late = (select(a.c.department_code).where(a.c.status == "open")
                .where(a.c.deadline_at < end - dt.timedelta(hours=2)).where(a.c.grid_code.like(f"{district}%")))
        dept = conn.execute(select(a.c.department_code).where(a.c.department_code.in_(late))
                            .where(a.c.grid_code.like(f"{district}%")).group_by(a.c.department_code)
                            .order_by(func.count().desc(), a.c.department_code).limit(1)).scalar_one()
        conn.execute(update(d).where(d.c.code == dept).values(name=DEPARTMENT))
        hostile = conn.execute(select(a.c.appeal_id, a.c.grid_code).where(a.c.category == CATEGORY)
                               .where(a.c.grid_code.like(f"{street}%")).order_by(a.c.created_at.desc())).first()
    engine.dispose()
    return {"env": env, "district": district, "street": street, "department": dept, "appeal": hostile[0],
            "grid": hostile[1]}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return hostile_city(tmp_path_factory.mktemp("no_markup"))


@pytest.fixture
def run(city, monkeypatch):
    for name, value in city["env"].items():
        monkeypatch.setenv(name, value)

    def go(page: str, /, *, as_role: str = "city", **params) -> AppTest:
        at = sign_in(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120), role=as_role)
        at.switch_page(f"pages/{page}.py")
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert not [e.value for e in at.error if "页面出错" in e.value], [e.value for e in at.error]
        return at

    return go


class _Tags(HTMLParser):
    """The tags of an HTML fragment that would load, link or run something."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        inline_png = tag == "img" and re.fullmatch(r"data:image/png;base64,[A-Za-z0-9+/=]+", attrs.get("src") or "")
        if tag in ("img", "iframe", "object", "embed", "svg", "video", "audio", "source") and not inline_png:
            self.tags.append(f"<{tag}>")  # a picture drawn by the dashboard itself (/present's charts) loads nothing
        if tag == "a" and re.match(r"\s*(https?:|//|javascript:|data:)", attrs.get("href") or "", re.I):
            self.tags.append(f"<a href={attrs['href']}>")
        if any(name.startswith("on") for name in attrs):
            self.tags.append(f"<{tag} on…>")
        self._script = tag in ("script", "style")

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and "evil" in data:  # a script or style sheet with a value in it
            self.tags.append("<script> with a value")
        if not self._script:
            self.text.append(data)


def _nodes(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


_MARKDOWN_FIELDS = {"body", "label", "help", "delta", "delta_description", "captions", "content", "title"}
_NOT_MARKDOWN = {"html", "code", "text", "deck_gl_json_chart", "plotly_chart", "arrow_data_frame", "dataframe",
                 "json", "exception", "multiselect", "selectbox"}


def page_texts(at: AppTest) -> dict[str, list[str]]:
    """The page's Markdown texts (every message, caption, label, help text, metric, tab and option that
    Streamlit renders as Markdown), its HTML fragments, its figures and its maps."""
    out: dict[str, list] = {"markdown": [], "html": [], "plotly": [], "deck": []}
    for node in _nodes(at._tree):
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is None or not hasattr(proto, "DESCRIPTOR"):
            continue
        if kind == "html":
            out["html"].append(proto.body)
            continue
        if kind == "plotly_chart":
            out["plotly"].append(json.loads(proto.spec))
            continue
        if kind == "deck_gl_json_chart":
            out["deck"].append((json.loads(proto.json), proto.tooltip))
            continue
        data = MessageToDict(proto, preserving_proto_field_name=True)
        for path, text in _strings(data):
            if kind in _NOT_MARKDOWN and not (path and path[-1] in ("label", "help")):
                continue
            if any(p in _MARKDOWN_FIELDS for p in path[-2:]) or (kind == "radio" and "options" in path):
                out["markdown"].append(text)
    return out


def check_page(at: AppTest) -> str:
    """Assert that nothing on the page is live markup from a value; return what a person reads."""
    texts = page_texts(at)
    problems = [f"{live_markup(md)} in {md!r}" for md in texts["markdown"] if live_markup(md)]
    read = [shown(md) for md in texts["markdown"]]
    for fragment in texts["html"]:
        parser = _Tags()
        parser.feed(fragment)
        problems += [f"{tag} in {fragment[:300]!r}" for tag in parser.tags]
        read.append(" ".join(parser.text))
    for spec in texts["plotly"]:
        problems += figure_problems(spec)
        read += [html.unescape(t) for path, t in _strings(spec.get("data", [])) if path and path[-1] in ("x", "y")]
    for deck, tooltip in texts["deck"]:
        problems += deck_problems(deck, tooltip)
    assert not problems, "\n".join(problems)
    return "\n".join(read)


def test_the_page_check_finds_live_markup():
    """The page check can fail: a page that writes a value into Markdown as it is."""
    from streamlit.testing.v1 import AppTest as _AT

    script = f"""
import streamlit as st
st.error("工单 “{PAYLOADS[0]}” 不存在")
st.html('<div>{CATEGORY}</div>')
st.metric("受理", "1", help="{STREET}")
"""
    at = _AT.from_string(script).run()
    with pytest.raises(AssertionError) as failed:
        check_page(at)
    assert "link or image" in str(failed.value) and "<a href=http://evil.example/c>" in str(failed.value)


# Every URL parameter each page reads, in groups run together (a group stops at its first refusal, so a
# parameter that ends the page, such as an unknown figure, runs alone). In run k, the group's j-th parameter
# gets PAYLOADS[(j + k) % 6]: over six runs each parameter gets each value. ``shown``: the parameters the
# page names back on screen (in a message or a filter note).
VIEW = ["region", "period", "as_of"]
CUSTOM = {"period": "custom"}
SWEEPS = {
    "big_screen-view": ("big_screen", {}, VIEW, VIEW),
    "big_screen-kiosk": ("big_screen", {}, ["kiosk"], []),
    "big_screen-custom": ("big_screen", CUSTOM, ["from", "to"], ["from", "to"]),
    "region-view": ("region", {}, VIEW + ["metric", "layer", "rank_sort", "rank_sort_desc", "dept_sort"],
                    VIEW + ["metric"]),
    "region-custom": ("region", CUSTOM, ["from", "to"], ["from", "to"]),
    "cases-figure": ("cases", {}, ["figure"], ["figure"]),
    "cases-view": ("cases", {"figure": "received"}, VIEW + ["part", "sort", "page", "desc"],
                   VIEW + ["part", "sort", "page"]),
    "cases-custom": ("cases", {"figure": "received", **CUSTOM}, ["from", "to"], ["from", "to"]),
    "cases-filters": ("cases", {"figure": "received", "period": "all"},
                      ["category", "subcategory", "department"], ["category", "subcategory", "department"]),
    "cases-cluster": ("cases", {"figure": "received", "period": "all"}, ["cluster"], ["cluster"]),
    "cases-channel": ("cases", {"figure": "received", "period": "all"}, ["channel"], []),
    "snapshots-view": ("snapshots", {}, VIEW, VIEW),
    "snapshots-custom": ("snapshots", CUSTOM, ["from", "to"], ["from", "to"]),
    "snapshots-id": ("snapshots", {}, ["id"], ["id"]),
    "present-view": ("present", {}, VIEW, VIEW),
    "present-snapshot": ("present", {}, ["snapshot", "theme"], ["snapshot"]),
    "cases-status": ("cases", {"figure": "received", "period": "all"}, ["status"], []),
    "cases-child": ("cases", {"figure": "received", "period": "all"}, ["child"], []),
    "case-id": ("case", {}, ["id"], ["id"]),
    "case-view": ("case", {"id": "APPEAL"}, VIEW + ["from"], []),
    "alerts-view": ("alerts", {}, VIEW + ["district", "street", "department", "category", "channel"],
                    VIEW + ["district", "street", "department", "category", "channel"]),
    "alerts-custom": ("alerts", CUSTOM, ["from", "to"], ["from", "to"]),
    "rankings-view": ("rankings", {}, VIEW + ["unit", "n", "league_sort", "league_sort_desc"], VIEW + ["unit", "n"]),
    "rankings-custom": ("rankings", CUSTOM, ["from", "to"], ["from", "to"]),
}


@pytest.mark.parametrize("k", range(len(PAYLOADS)))
@pytest.mark.parametrize("sweep", list(SWEEPS))
def test_hostile_url_parameters_show_as_text(run, city, sweep, k):
    page, fixed, hostile, named = SWEEPS[sweep]
    values = {p: PAYLOADS[(j + k) % len(PAYLOADS)] for j, p in enumerate(hostile)}
    fixed = {p: (city["appeal"] if v == "APPEAL" else v) for p, v in fixed.items()}
    at = run(page, **fixed, **values)
    read = check_page(at)
    for param in named:  # the value is still shown to the person, as its characters
        assert values[param][:15] in read, (param, values[param], read[:2000])


@pytest.mark.parametrize("page, params, role, expected", [
    ("big_screen", {}, "city", [CATEGORY]),
    ("big_screen", {"region": "DISTRICT"}, "city", [DISTRICT, STREET, CATEGORY]),
    ("region", {"region": "DISTRICT", "period": "all"}, "city", [DISTRICT, STREET, DEPARTMENT, CATEGORY]),
    ("region", {"region": "STREET", "period": "all"}, "city", [STREET, DISTRICT]),
    ("region", {"region": "GRID", "period": "all"}, "city", [STREET]),
    ("cases", {"figure": "received", "period": "all", "category": CATEGORY}, "city",
     [CATEGORY, SUBCATEGORY, SUMMARY[:10]]),
    ("cases", {"figure": "received", "period": "all", "department": "DEPARTMENT"}, "city", [DEPARTMENT]),
    ("case", {"id": "APPEAL"}, "city", [CATEGORY, SUMMARY, ADDRESS, NAME, STREET]),
    ("alerts", {"region": "DISTRICT", "department": "DEPARTMENT"}, "city", [DISTRICT, DEPARTMENT]),
    ("alerts", {"region": "STREET"}, "city", [STREET]),
    ("rankings", {"region": "DISTRICT", "period": "all"}, "city", [DISTRICT, STREET]),
    ("rankings", {"region": "DISTRICT", "period": "all", "unit": "department"}, "city", [DISTRICT, DEPARTMENT]),
    ("audit", {}, "admin", []),
    ("snapshots", {"region": "DISTRICT", "period": "all"}, "city", [DISTRICT]),
    ("present", {"region": "DISTRICT"}, "city", [DISTRICT, STREET, CATEGORY]),
])
def test_hostile_names_and_texts_in_the_data_show_as_text(run, city, page, params, role, expected):
    names = {"DISTRICT": city["district"], "STREET": city["street"], "GRID": city["grid"],
             "DEPARTMENT": city["department"], "APPEAL": city["appeal"]}
    at = run(page, as_role=role, **{k: names.get(v, v) for k, v in params.items()})
    read = check_page(at)
    for value in expected:
        assert value in read, (value, read[:3000])


def test_a_snapshot_of_hostile_names_shows_them_as_text(run, city, tmp_path):
    """A snapshot keeps the names it was frozen with (and its own name, typed by a person): its page and
    the list show them as their characters."""
    from data_access import analytics, snapshots, sync
    from data_access.scope import Period, Scope

    engine = make_engine(city["env"]["APPEALS_DB_URL"])
    con = analytics.open_store(str(tmp_path / "copy.duckdb"))
    try:
        sync.sync(engine, con, timezone=CITY_TZ)
        as_of = local_now(CITY_TZ).replace(microsecond=0)
        period = Period.days(as_of.date() - dt.timedelta(days=40), as_of.date() - dt.timedelta(days=1))
        made = snapshots.freeze(engine, con, Scope(city["district"], "district"), period, as_of,
                                name=PAYLOADS[0] + PAYLOADS[2], created_by=NAME)
    finally:
        con.close()
        engine.dispose()
    read = check_page(run("snapshots", id=str(made.info.id)))
    for value in (PAYLOADS[0] + PAYLOADS[2], DISTRICT, STREET, CATEGORY, NAME):
        assert value in read, (value, read[:3000])
    read = check_page(run("snapshots"))
    assert PAYLOADS[0] + PAYLOADS[2] in read and DISTRICT in read
