"""The two CSV tables of a sweep: a row per point, and a row per point and subject."""

from __future__ import annotations

import numpy as np

__all__ = ["sweep_tables"]

#: Kaplan-Meier medians of a point, each written as value, _lo and _hi columns.
MEDIAN_KEYS = ("median_onset_day", "median_end_stage_day", "median_onset_to_end_stage_days")


def sweep_tables(summary: dict, endpoints: dict[str, np.ndarray]):
    """``sweep.csv`` (a row per point: its parameter values, the medians with their 95 %
    intervals, the fractions with onset and at end stage) and ``endpoints.csv`` (a row
    per point and subject: that subject's event days), as pandas DataFrames.

    ``summary``: :func:`alsim.trials.sweep.summarise_sweep`'s; ``endpoints``: arrays
    (point, subject) by endpoint name, as :func:`alsim.trials.sweep.run_sweep` returns.
    """
    import pandas as pd

    rows = []
    for point in summary["points"]:
        row = dict(point["values"])
        for key in MEDIAN_KEYS:
            row.update({f"{key}{suffix}": point[key][part] for part, suffix in (("value", ""), ("lo", "_lo"), ("hi", "_hi"))})
        row.update(fraction_with_onset=point["fraction_with_onset"], fraction_with_end_stage=point["fraction_with_end_stage"])
        rows.append(row)
    n_points, n_subjects = endpoints["onset_day"].shape
    per_subject = pd.DataFrame({"point": np.repeat(np.arange(n_points), n_subjects),
                                "subject": np.tile(np.arange(n_subjects), n_points),
                                **{k: v.ravel() for k, v in endpoints.items()}})
    return pd.DataFrame(rows), per_subject
