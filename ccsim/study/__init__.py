"""What makes a study: the experiment file and its stopping rule, the run that drives the
replications, and the answer built on them (targets met, the cost-service frontier and each
model's cost at equal service, the selection of the cheapest model, the sensitivity to
uncertain inputs). Replications, saved blocks and tables are :mod:`ccsim.experiment`'s."""
