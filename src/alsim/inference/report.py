"""Where :func:`alsim.inference.calibration.run_calibration` finds the calibration page.

The page is built by :mod:`alsim.report.calibration` (report is the only part that
draws); this name stays so that the calibration run can write it when it finishes.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_calibration_report"]


def write_calibration_report(folder: str | Path, *, dpi: int = 90) -> Path:
    """Write ``folder/report.html`` for a finished calibration folder and return its path
    (:func:`alsim.report.calibration.write_calibration_report`)."""
    from ..report.calibration import write_calibration_report as write

    return write(folder, dpi=dpi)
