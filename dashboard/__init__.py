"""The dashboard's logic, kept free of Streamlit where it can be: store, accounts, charts, reports."""
