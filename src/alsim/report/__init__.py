"""Figures and self-contained HTML pages: runs against training data, trials, windows,
sweeps and calibrations.

Report is the only part of alsim that draws: matplotlib is imported here only, inside
the drawing functions. Modules: :mod:`.page` (the page kit: style, escaping, tables,
figures, the atomic write), :mod:`.plots` (panels), :mod:`.figures` and :mod:`.html` (the run page),
:mod:`.human_plots` and :mod:`.human` (the human run page), :mod:`.trial` (trial and
window pages), :mod:`.sweep` (the sweep page), :mod:`.calibration_plots` and
:mod:`.calibration` (the calibration page), :mod:`.training_overlay` (training rows
drawn over readouts).
"""

from .html import render_report, training_comparison, write_report
from .figures import by_type_figure, onset_survival_figure, time_course_figure
from .plots import (
    READOUTS, TIME_COURSE_VARS, Readout, TrainingPoint, band, endpoint_summary, event_free_curve,
    map_training_row, plot_by_type, plot_onset_survival, plot_time_course, training_points,
)

__all__ = [
    "READOUTS", "TIME_COURSE_VARS", "Readout", "TrainingPoint", "band", "by_type_figure", "endpoint_summary",
    "event_free_curve", "map_training_row", "onset_survival_figure", "plot_by_type", "plot_onset_survival",
    "plot_time_course", "render_report", "time_course_figure", "training_comparison", "training_points",
    "write_report",
]
