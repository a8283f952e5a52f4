"""The comparison dashboard: read the tracking store, write one self-contained HTML page."""
