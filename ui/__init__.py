"""Streamlit-only helpers of the dashboard: session-state keys, cached services, the shared sidebar."""
