"""Typed access to the published measurements in ``alsim/data/training/``.

Only the quantitative tables are loaded here: ``nmj_innervation.csv``,
``motor_neurons.csv`` and ``onset_survival.csv``. The other files hold qualitative
observations (orders, ranges, free text) that are documented, not fitted.

The files are read as package data with :mod:`importlib.resources`, so the loader works
from an installed wheel as well as from a source checkout.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import asdict, dataclass
from importlib import resources

__all__ = ["TRAINING_FILES", "TrainingRow", "load_training", "short_source", "training_table"]

#: The quantitative training files, in the order :func:`load_training` returns them.
TRAINING_FILES: tuple[str, ...] = ("nmj_innervation.csv", "motor_neurons.csv", "onset_survival.csv")

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class TrainingRow:
    """One published measurement.

    ``value`` and ``sd`` are ``None`` where the file holds no number; ``n`` is kept as the
    text of the file (it may read ``"4-5"`` or ``"97 studies (...)"``). For rows of
    ``onset_survival.csv``, ``measure`` is the endpoint (``onset``, ``end_stage``,
    ``survival``), ``value``/``sd`` are the mean and SD in days, ``age_days`` and
    ``muscle_or_region`` are ``None`` and ``definition`` says how the endpoint was scored.
    """

    file: str
    strain: str
    sex: str
    muscle_or_region: str | None
    age_days: float | None
    measure: str
    value: float | None
    sd: float | None
    n: str | None
    source: str
    status: str
    definition: str | None = None

    @property
    def short_source(self) -> str:
        """First author and year, e.g. ``"Cantor 2018"``."""
        return short_source(self.source)


def short_source(source: str) -> str:
    """``"Cantor S et al. 2018 eLife ..."`` -> ``"Cantor 2018"``; the first word if no year."""
    text = source.strip()
    if not text:
        return ""
    first = text.split()[0].rstrip(",;:")
    year = _YEAR.search(text)
    return f"{first} {year.group(1)}" if year else first


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _text(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text or None


def _read(name: str) -> list[dict[str, str]]:
    resource = resources.files("alsim.data").joinpath("training", name)
    with resource.open("r", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))


def _time_course_row(file: str, place_column: str, n_column: str | None, record: dict[str, str]) -> TrainingRow:
    """A measurement at an age in a muscle or region (NMJ and motor-neuron counts)."""
    return TrainingRow(
        file=file,
        strain=record["strain"].strip(),
        sex=record["sex"].strip(),
        muscle_or_region=_text(record[place_column]),
        age_days=_float(record["age_days"]),
        measure=record["measure"].strip(),
        value=_float(record["value"]),
        sd=None,
        n=_text(record.get(n_column)) if n_column else None,
        source=record["source"].strip(),
        status=record["status"].strip(),
    )


def _nmj(record: dict[str, str]) -> TrainingRow:
    return _time_course_row("nmj_innervation.csv", "muscle", "n_per_group", record)


def _motor_neurons(record: dict[str, str]) -> TrainingRow:
    return _time_course_row("motor_neurons.csv", "region", None, record)


def _onset_survival(record: dict[str, str]) -> TrainingRow:
    return TrainingRow(
        file="onset_survival.csv",
        strain=record["strain"].strip(),
        sex=record["sex"].strip(),
        muscle_or_region=None,
        age_days=None,
        measure=record["endpoint"].strip(),
        value=_float(record["mean_days"]),
        sd=_float(record["sd_days"]),
        n=_text(record.get("n")),
        source=record["source"].strip(),
        status=record["status"].strip(),
        definition=_text(record.get("definition")),
    )


_PARSERS = {
    "nmj_innervation.csv": _nmj,
    "motor_neurons.csv": _motor_neurons,
    "onset_survival.csv": _onset_survival,
}


@functools.lru_cache(maxsize=1)
def _load() -> tuple[TrainingRow, ...]:
    rows: list[TrainingRow] = []
    for name in TRAINING_FILES:
        parse = _PARSERS[name]
        rows.extend(parse(record) for record in _read(name) if any(v and v.strip() for v in record.values()))
    return tuple(rows)


def load_training() -> list[TrainingRow]:
    """All rows of the quantitative training files (a fresh list; the rows are frozen)."""
    return list(_load())


def training_table():
    """:func:`load_training` as a :class:`pandas.DataFrame`, one column per field."""
    import pandas as pd

    rows = _load()
    columns = list(TrainingRow.__dataclass_fields__)
    frame = pd.DataFrame([asdict(row) for row in rows], columns=columns)
    for column in ("age_days", "value", "sd"):
        frame[column] = frame[column].astype("float64")
    return frame
