"""From a planner's data to a scenario: fit demand, handle times and patience from contact
records, check the fitted model against the log, and forecast next weeks' volumes.

Pure functions over tables; the command line (``ccsim fit``, ``ccsim forecast``) reads the
files and writes the results. See ``docs/fitting.md`` for each estimator and its assumptions.
"""

from ccsim.fit.centre import (
    FittedCentre,
    fit_centre,
    overlap_tolerance,
    peak_busy_agents,
    scenario_text,
)
from ccsim.fit.demand import AlphaEstimate, DemandFit, estimate_alpha, fit_demand
from ccsim.fit.durations import FamilyFit, HandleTimeFit, fit_family, fit_handle_times
from ccsim.fit.forecast import ForecastResult, forecast_volumes, read_history
from ccsim.fit.patience import PatienceFit, fit_patience
from ccsim.fit.records import RecordError, Records, contact_log, parse_columns, read_records
from ccsim.fit.validate import Validation, validate, write_validation

__all__ = [
    "AlphaEstimate",
    "DemandFit",
    "FamilyFit",
    "FittedCentre",
    "ForecastResult",
    "HandleTimeFit",
    "PatienceFit",
    "RecordError",
    "Records",
    "Validation",
    "contact_log",
    "estimate_alpha",
    "fit_centre",
    "fit_demand",
    "fit_family",
    "fit_handle_times",
    "fit_patience",
    "forecast_volumes",
    "overlap_tolerance",
    "parse_columns",
    "peak_busy_agents",
    "read_history",
    "read_records",
    "scenario_text",
    "validate",
    "write_validation",
]
