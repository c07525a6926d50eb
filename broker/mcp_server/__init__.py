"""``outbound mcp``: the user's connections as an MCP server (tools call providers through the
broker; the agent never holds a token).

A client of the broker over HTTP: imports only the foundation modules (``crypto``, ``edge``).
"""
