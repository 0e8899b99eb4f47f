"""Data access: the appeal database's schema, the analytics store, its sync, the query layer and the CLI.

Nothing here imports Streamlit except ``cached.py``, the dashboard's thin cache wrapper.
"""
