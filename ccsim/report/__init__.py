"""The experiment report: one self-contained HTML page with tables and figures."""
