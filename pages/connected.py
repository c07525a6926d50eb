"""Landing page after an OAuth connect (hidden, needs no session): the outcome and a way back."""

from __future__ import annotations

from dashboard.ui.apps_landing import render_landing

render_landing()
