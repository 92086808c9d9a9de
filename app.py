"""The web server: `streamlit run app.py` (`make run`) serves Home.py and pages/ behind the session routes.

`st.App` adds what a page script cannot do itself: set the HttpOnly session cookie (`/auth/…`) and
answer `/media/…` (face crops, report downloads) only to the user whose page shows them.
"""

import streamlit as st
from starlette.middleware import Middleware

from dashboard.engine import clear_stale_uploads
from dashboard.settings import AppSettings
from dashboard.ui import server

clear_stale_uploads(AppSettings.from_env().uploads_dir)  # what a killed server left behind
server.activate()
app = st.App("Home.py", routes=server.ROUTES, middleware=[Middleware(server.MediaGuard)])
