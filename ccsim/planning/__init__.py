"""Staffing and shift scheduling (``ccsim staff``): requirements per interval, the covering
program, and the search that staffs a whole scenario at least cost with simulation as the
judge (:func:`staff_scenario`), its staffed model files and its cost-service frontier."""

_EXPORTS = {
    "staff_scenario": "ccsim.planning.search",
    "StaffingPlan": "ccsim.planning.search",
    "Targets": "ccsim.planning.targets",
    "ChannelTarget": "ccsim.planning.targets",
    "evaluate": "ccsim.planning.targets",
    "ShiftOffer": "ccsim.planning.templates",
    "frontier": "ccsim.planning.frontier",
    "cost_at_target": "ccsim.planning.frontier",
    "write_frontier": "ccsim.planning.frontier",
    "write_staffed_model": "ccsim.planning.model_file",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    # Loaded when first used: the search pulls in scipy's optimiser and the experiment runner.
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ccsim.planning' has no attribute {name!r}")
