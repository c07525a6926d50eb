"""Use with an agent: access keys, the MCP client configuration, a tool check, agent figures."""

from __future__ import annotations

from dashboard.frame.gates import require_session
from dashboard.ui.agents import render_agents_page

render_agents_page(require_session())
