"""Every string an AppTest run rendered, with the element type and field it sits in.

What a person could read on the page (sidebar included), for tests that look for something
that must, or must never, be there: a payload drawn as markup, a code that must not show.
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


def rendered_strings(at: AppTest) -> list[tuple[str, str, str]]:
    """Every string of every element on the page (sidebar included), with where it sits."""
    found: list[tuple[str, str, str]] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            found.extend(_strings(proto, type(proto).__name__))
        value = getattr(node, "value", None) if proto is not None else None
        if hasattr(value, "to_dict"):  # a table: its cells, as drawn (text, never markdown)
            found.extend(("Cell", "value", str(cell)) for cell in value.to_numpy().ravel())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def page_text(at: AppTest) -> str:
    """All rendered strings of the page, one per line."""
    return "\n".join(value for _, _, value in rendered_strings(at))
