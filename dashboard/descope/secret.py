"""``Secret``: a string that masks itself everywhere but the one place that sends it.

Like starlette's ``Secret`` (repr ``'**********'``): JWTs, keys and tokens are wrapped the moment
they are parsed so that none can reach a log, a repr or a traceback.
"""

from __future__ import annotations


class Secret:
    """A string that never shows itself in a repr, str or traceback; ``reveal()`` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value in clear, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)
