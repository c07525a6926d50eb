"""A small Descope client: the transport, identity calls, models and errors.

Only ``transport.py`` imports httpx. Area modules (``auth``, ``outbound``, ``management``) are
plain functions over a ``Transport``; they parse JSON into frozen dataclasses at the edge.
"""
