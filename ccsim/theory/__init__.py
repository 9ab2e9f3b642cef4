"""Exact queueing results (Erlang B, C and A): no simulation."""
