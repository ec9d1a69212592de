"""Figures and summaries built from stored iteration records (Plotly, no Streamlit): ``charts`` (over versions),
``class_charts`` (per class of one version), ``version_summary`` (the versions table and the verdict),
``activity`` (who runs what since when, why a run failed) and their shared ``chart_style``. They read the
typed records of ``al_core.store.records``."""
