"""Acme Calendar: the demo OAuth 2.0 provider (authorization server + resource API) with fault switches.

A program of its own: imports nothing of the broker outside this package (the broker's ``cli``
and ``seed`` import it, never the reverse).
"""
