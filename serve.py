"""The dashboard's server: ``app.py``, and the route that sets the session cookie with ``HttpOnly``.

    streamlit run serve.py --server.address 127.0.0.1     (``make run`` does)

``streamlit run app.py`` serves the same pages, but then the page writes the session cookie itself and
scripts in the page could read it (see docs/security.md, "Sessions").
"""

import streamlit as st

from ui import session_cookie

app = st.App("app.py", routes=session_cookie.routes())
