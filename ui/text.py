"""Text from the URL or the data, made safe for the places that render markup.

Most of Streamlit's text renders Markdown: ``st.error``, ``st.warning``,
``st.info``, ``st.success``, ``st.caption``, ``st.markdown``, ``st.metric``
(label, value, delta, help), widget labels and help texts, the options of
radio buttons and segmented controls, tabs and expanders. Its Markdown has
links, images, inline HTML, GitHub's autolinks (``www.…``, ``http://…``,
``a@b.example``), maths (``$…$``), directives (``:red[…]``, ``:help[…]``),
Material icons (``:material/home:``), emoji shortcodes and the Streamlit logo
(``:streamlit:``). ``plain`` writes any value so that it shows as the
characters it is and nothing else: a region code ``[点我](http://evil.example)``
from the URL reads as those characters, never as a link. Backslash escapes stop
the syntax; what is rewritten after parsing, where the escapes are gone
(autolinks, shortcodes, icons, arrows), is kept apart by an invisible word
joiner (U+2060). Ordinary text (names, dates, 23:59:59, 96.7%) is left as it is.

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
# Markers at the start of a line: headings, lists, block quotes, ordered lists, thematic breaks
_LEADING = re.compile(r"^( ?)([#+\-=])")
_ORDERED = re.compile(r"^( ?\d{1,9})([.)])(?=\s|$)")
# Some text is rewritten after parsing, where the escapes are already gone: GitHub's autolinks (http://…,
# www.…, a@b.example), emoji shortcodes (:smile:, loaded whenever the text holds a :word:, even a clock time's
# :59:), Streamlit's Material icons (:material_home:, :material/home:) and logo (:streamlit:), and typographic
# arrows (" -> " becomes →). A word joiner (U+2060, invisible) between two of their characters keeps them apart.
_JOIN = "\u2060"
_AFTER_PARSE = re.compile(
    r"(?i:https?:)(?=//)"  # http:|//
    r"|(?i:www)(?=\.)"  # www|.
    r"|[\w.+\-](?=@)"  # a|@b.example
    r"|:(?=(?:[+\-]1|\d*[A-Za-z_][\w+\-]*|\d{3,}):|material[/_])",  # :|smile:  :|material/home:  (not :59:)
    re.ASCII)
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
    text = _AFTER_PARSE.sub(lambda m: m.group(0) + _JOIN, text)
    text = _ARROWS.sub(lambda m: _JOIN.join(m.group(1)), text)
    text = _ALWAYS.sub(r"\\\1", text)
    text = _COLON.sub(r"\\:", text)
    text = _LEADING.sub(r"\1\\\2", text)
    return _ORDERED.sub(r"\1\\\2", text)


def markup(value) -> str:
    """``value`` for the text of something that renders HTML (plotly labels and hover texts, deck.gl
    tooltips): ``<a href=…>`` shows as those characters. For text between tags, not inside an attribute
    (``html.escape`` with quotes for those), so quotes stay as they are."""
    return "" if value is None else html.escape(str(value), quote=False)
