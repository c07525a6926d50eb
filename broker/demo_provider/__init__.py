"""Acme Calendar: the demo OAuth 2.0 provider (authorization server + resource API) with fault switches."""
