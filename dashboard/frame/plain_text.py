"""Text a person typed, shown through Streamlit's markdown exactly as typed.

Most Streamlit elements (markdown, captions, toasts, alerts) parse their text as markdown plus
Streamlit's own directives (``:material/…:``, ``:red[…]``); a name or a scope drawn raw could
become a link, an image or coloured text. ``literal`` escapes every character that means
something there.
"""

from __future__ import annotations

import re

# "/" too: Streamlit rewrites ":material/" to an icon directive before parsing the markdown.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(:/|www\.)")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&=^\"'/])")


def literal(value: str) -> str:
    """``value`` escaped so Streamlit's markdown shows it as typed (no links, images, HTML).

    Escapes do not stop the frontend's link detection (a Google scope is a URL), so an
    invisible word joiner goes inside ``://`` and after ``www``, where no link can start.
    """
    unlinked = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + WORD_JOINER + m.group(0)[-1], value)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(unlinked.split()))
