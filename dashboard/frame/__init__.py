"""The frame every page runs in: the Streamlit glue between the pages and the client.

Named after the entrypoint's frame (streamlit.md §1.2: what runs around every page): the page
registry (``navigation``), the gates at the top of a page (``gates``), the tab's keys in
``st.session_state`` and the flash message (``state``), keeping the session alive (``keeper``)
and across reloads (``remember``), the shared outbound-app widgets (``widgets``) and text shown
exactly as typed (``plain_text``). Only this package, ``dashboard/ui`` and the entrypoint call
``st.*``; the client (``dashboard/descope``) and ``dashboard/inventory`` never do.
"""
