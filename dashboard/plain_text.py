"""Text a person typed, shown through Streamlit's markdown exactly as typed.

Most Streamlit elements (markdown, captions, toasts, alerts) parse their text as markdown plus
Streamlit's own directives (``:material/…:``, ``:red[…]``); a name or a scope drawn raw could
become a link, an image or coloured text. ``literal`` escapes every character that means
something there.
"""

from __future__ import annotations

import re

# "/" too: Streamlit rewrites ":material/" to an icon directive before parsing the markdown.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:&=^\"'/])")


def literal(value: str) -> str:
    """``value`` escaped so Streamlit's markdown shows it as typed (no links, images, HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.split()))
