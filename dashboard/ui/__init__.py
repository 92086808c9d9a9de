"""The Streamlit side of the dashboard: login, shared widgets and the cached server resources."""
