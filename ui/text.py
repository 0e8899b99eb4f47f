"""Text from the URL or the data, made safe for the places that render markup.

Most of Streamlit's text renders Markdown: ``st.error``, ``st.warning``,
``st.info``, ``st.success``, ``st.caption``, ``st.markdown``, ``st.metric``
(label, value, help), widget labels and help texts, tabs and expanders. Its
Markdown has links, images, raw HTML shown as text, GitHub's autolinks
(``www.…``, ``http://…``, ``a@b.example``), maths (``$…$``), directives
(``:red[…]``, ``:help[…]``), Material icons (``:material/home:``), emoji
shortcodes and the Streamlit logo (``:streamlit:``). ``plain`` writes any value
so that all of it shows as the characters it is and nothing else: a region
code ``[点我](http://evil.example)`` from the URL reads as those characters,
never as a link.

``st.html`` renders HTML: values go through ``html.escape``. Plotly's labels,
legends and hover texts render a subset of HTML, and so do deck.gl's
tooltips: ``markup`` (``html.escape``) is the helper for those
(``ui/charts.py``, ``ui/maps.py``).

Every non-constant text reaching a Markdown call in ``pages/`` and ``ui/`` goes
through ``plain`` (or is a number written by ``ui/format.py``);
``tests/test_no_markup.py`` reads the source and fails on any that does not.
"""

from __future__ import annotations

import html
import re

# Characters that start Markdown syntax anywhere in a line (CommonMark lets any ASCII punctuation be
# backslash-escaped, and an escaped character is shown as itself): code, emphasis, strikethrough, links and
# images (``[``), raw HTML and autolinks (``<``), entities (``&``), maths (``$``), table cells (``|``)
_ALWAYS = re.compile(r"([\\`*_~\[\]<>&$|@])")
# A colon starts a directive (:red[…], :help[…]), an emoji shortcode (:smile:, :100:) or a URL scheme
# (http://, which GitHub's autolinks need). A clock time (10:30, 23:59:59) is none of these and stays as written.
_COLON = re.compile(r":(?!\d{1,2}(?![\w+\-]))", re.ASCII)
# A bare www.… becomes a link (GitHub's autolink literal): its dot is escaped
_WWW = re.compile(r"(?<![\w.])(www)\.", re.ASCII | re.IGNORECASE)
# Markers at the start of a line: headings, lists, block quotes, ordered lists, thematic breaks
_LEADING = re.compile(r"^( ?)([#+\-=])")
_ORDERED = re.compile(r"^( ?\d{1,9})([.)])(?=\s|$)")
# Streamlit rewrites some text after parsing, where escapes are already gone: Material icons
# (:material_home: and :material/home:), the Streamlit logo (:streamlit:) and typographic arrows
# (" -> " becomes →). A word joiner (U+2060, invisible) keeps these apart.
_JOIN = "\u2060"
_AFTER_PARSE = re.compile(r":(?=material[/_]|streamlit:)")
_ARROWS = re.compile(r"(?<!\S)(<->|->|<-|--|>=|<=|~=)(?!\S)")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def plain(value) -> str:
    """``value`` (any object, written with ``str``) as Markdown that shows exactly its characters.

    Line breaks and runs of spaces become one space (a message is one line), so the value cannot start a
    block of its own (a code block, a table, a heading). ``None`` is an empty string.
    """
    if value is None:
        return ""
    text = _SPACES.sub(" ", str(value))
    text = _AFTER_PARSE.sub(":" + _JOIN, text)
    text = _ARROWS.sub(lambda m: _JOIN.join(m.group(1)), text)
    text = _ALWAYS.sub(r"\\\1", text)
    text = _COLON.sub(r"\\:", text)
    text = _WWW.sub(r"\1\\.", text)
    text = _LEADING.sub(r"\1\\\2", text)
    return _ORDERED.sub(r"\1\\\2", text)


def markup(value) -> str:
    """``value`` for the text of something that renders HTML (plotly labels and hover texts, deck.gl
    tooltips): ``<a href=…>`` shows as those characters. For text between tags, not inside an attribute
    (``html.escape`` with quotes for those), so quotes stay as they are."""
    return "" if value is None else html.escape(str(value), quote=False)
