"""Managed tokens: connections and token status across users (admins) or of oneself."""

from __future__ import annotations

from dashboard.ui.tokens import render_tokens_page

render_tokens_page()
