"""Many replications: experiment files, seeds, blocks, backends, the result store, confidence
intervals and summaries."""
