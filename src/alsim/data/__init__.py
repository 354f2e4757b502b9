"""Package data: published measurements used for calibration and comparison."""

from .training import TRAINING_FILES, TrainingRow, load_training, short_source, training_table

__all__ = ["TRAINING_FILES", "TrainingRow", "load_training", "short_source", "training_table"]
