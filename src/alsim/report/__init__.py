"""Figures and a self-contained HTML report of simulated results against training data.

Plotting is a leaf of the package: nothing else in alsim imports it, and matplotlib is
imported only inside the drawing functions.
"""

from .html import render_report, training_comparison, write_report
from .plots import (
    READOUTS, TIME_COURSE_VARS, Readout, TrainingPoint, band, by_type_figure, endpoint_summary, event_free_curve,
    map_training_row, onset_survival_figure, plot_by_type, plot_onset_survival, plot_time_course,
    time_course_figure, training_points,
)

__all__ = [
    "READOUTS", "TIME_COURSE_VARS", "Readout", "TrainingPoint", "band", "by_type_figure", "endpoint_summary",
    "event_free_curve", "map_training_row", "onset_survival_figure", "plot_by_type", "plot_onset_survival",
    "plot_time_course", "render_report", "time_course_figure", "training_comparison", "training_points",
    "write_report",
]
