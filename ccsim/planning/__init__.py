"""Staffing requirements and the cheapest shifts that cover them (``ccsim staff``)."""
