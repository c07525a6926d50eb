"""Agents: Descope-style access keys, the provider proxy and the agent-call audit."""
