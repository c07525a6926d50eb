"""The Outbound Dashboard: a Streamlit console that speaks Descope's wire format over HTTP.

Imports run one way: ``pages/*`` → ``ui`` → ``frame`` → ``inventory`` and the modules at this
root → ``descope`` (the client); ``settings`` is read by the frame and the UI, never by the client.

* ``streamlit_app.py``: the entrypoint (``python -m streamlit run dashboard``).
* ``settings.py``, ``demo_mode.py``: where the dashboard points, read once from the environment.
* ``descope/``: the client: ``DescopeClient`` (transport, session, refresh-on-401), the calls,
  models and errors. No Streamlit.
* ``inventory/``: the token inventory across users and what the tokens page computes of it
  and of one token (status, inspection, trial). No Streamlit.
* ``frame/``: the Streamlit glue every page runs in (navigation, gates, state, keeper, widgets).
* ``ui/``: what each page draws.
* ``app_listing``, ``authorization_url``, ``agent_setup``: what the Outbound apps and agents
  pages compute, free of Streamlit (tested without it).
"""
