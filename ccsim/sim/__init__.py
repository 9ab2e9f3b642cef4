"""One replication on SimPy's clock: random streams, arrivals, shifts, the core of a
contact's life, the features around it, routing policies, the counts and their counter,
accounting and the result. No I/O, no files, no parallelism."""
