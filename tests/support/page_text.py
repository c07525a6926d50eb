"""Every string an AppTest run rendered, with the element type and field it sits in.

What a person could read on the page (sidebar included), for tests that look for something
that must, or must never, be there: a payload drawn as markup, a code that must not show.
Only AppTest's public API is read: ``at.main``, ``at.sidebar`` and ``at.toast`` (the toasts sit
in a block of their own), each element's ``proto`` and each block's ``children``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from streamlit.testing.v1 import AppTest


def _strings(message: Any, proto_name: str) -> Iterator[tuple[str, str, str]]:
    """``(proto type, field, value)`` for every string in a protobuf message, recursively."""
    for field, value in message.ListFields():
        if isinstance(value, int | float | bytes):
            continue
        items = [value] if isinstance(value, str) or hasattr(value, "ListFields") else list(value)
        for item in items:
            if isinstance(item, str):
                yield proto_name, field.name, item
            elif hasattr(item, "ListFields"):
                yield from _strings(item, type(item).__name__)


def page_nodes(at: AppTest | Any) -> Iterator[Any]:
    """Every element and block of the page (main area, sidebar, toasts), or of one block."""
    roots = [at.main, at.sidebar, *at.toast] if isinstance(at, AppTest) else [at]
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(getattr(node, "children", {}).values())))


def proto_text(at: AppTest | Any) -> str:
    """Every element's protobuf text, in page order (where a traceback or markup would show)."""
    return "\n".join(str(n.proto) for n in page_nodes(at) if getattr(n, "proto", None) is not None)


def rendered_strings(at: AppTest) -> list[tuple[str, str, str]]:
    """Every string of every element on the page (sidebar included), with where it sits."""
    found: list[tuple[str, str, str]] = []
    for node in page_nodes(at):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        if hasattr(proto, "ListFields"):
            found.extend(_strings(proto, type(proto).__name__))
        value = getattr(node, "value", None)
        if value is not None and hasattr(
            value, "to_numpy"
        ):  # a table: its cells, as drawn (text, never markdown)
            found.extend(("Cell", "value", str(cell)) for cell in value.to_numpy().ravel())
    return found


def page_text(at: AppTest) -> str:
    """All rendered strings of the page, one per line."""
    return "\n".join(value for _, _, value in rendered_strings(at))
