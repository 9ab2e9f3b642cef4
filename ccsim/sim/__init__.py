"""One replication on SimPy's clock: random streams, arrivals, shifts, the engine, routing,
accounting and the result. No I/O, no files, no parallelism."""
