"""Calibration and hypothesis comparison against the training data: logic only (the page is
drawn by :mod:`alsim.report.calibration`). The verbs are :func:`alsim.inference.verbs.calibrate`
and :func:`alsim.inference.verbs.compare`, also ``alsim.calibrate`` and ``alsim.compare``."""
