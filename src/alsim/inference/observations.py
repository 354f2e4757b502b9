"""The training data as summary statistics with observation errors.

Every row of the project's copy of the training data (``alsim/data/training/``) that
applies to a strain becomes one :class:`Statistic`: what was observed, how the same
quantity is read from a simulated cohort (:mod:`alsim.inference.summaries`), and an
observation error (an SD, in the statistic's unit) built from what the row reports:

- a reported SD and n give the standard error of the mean, SD / sqrt(n);
- a fraction with n animals per group and no SD: an assumed between-animal SD of
  ``ANIMAL_SD_FRACTION`` over sqrt(n); with no n either, ``NO_N_ERROR_FRACTION``;
- an age read off a time course ("from ~P50"): ``AGE_ERROR_DAYS``;
- a floor for the model's own discrepancy is added in quadrature (``FLOOR_DAYS`` for
  ages, ``FLOOR_FRACTION`` for fractions);
- rows marked ``recalled_check_primary`` or ``recalled_ages_verified_order`` have their
  error multiplied by ``RECALLED_WIDENING``.

Rows that the model cannot produce, or that measure a later endpoint than the model's,
are kept as statistics with ``fitted=False`` and the reason: they are shown in the
posterior predictive checks, but the calibration does not see them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..data import load_training
from ..data.training import TrainingRow, _read, short_source

__all__ = ["Statistic", "observed_statistics", "fitted_statistics", "ERROR_RULES"]

#: Between-animal SD of an NMJ-innervation fraction, when a row gives n but no SD.
ANIMAL_SD_FRACTION = 0.15
#: Error of a fraction that reports neither SD nor n.
NO_N_ERROR_FRACTION = 0.10
#: Error of an age read from a sparse time course (weekly or fortnightly sampling).
AGE_ERROR_DAYS = 7.0
#: Model-discrepancy floor for ages and endpoint days: CS4 and CS5 end stages of the same
#: 162 mice differ by 3.7 d (Solomon 2011), a measure of how much definitions alone move them.
FLOOR_DAYS = 3.7
#: Model-discrepancy floor for fractions.
FLOOR_FRACTION = 0.05
#: Multiplier on the error of rows whose number was not read in the primary paper.
RECALLED_WIDENING = 2.0
#: Threshold defining "the start of a loss" for an onset-of-decline age (Kennel 1996).
LOSS_START_THRESHOLD = 0.9

ERROR_RULES: dict[str, str] = {
    "ANIMAL_SD_FRACTION": f"{ANIMAL_SD_FRACTION}: assumed between-animal SD of an innervation fraction (rows give n, no SD)",
    "NO_N_ERROR_FRACTION": f"{NO_N_ERROR_FRACTION}: assumed error of a fraction reported without SD or n",
    "AGE_ERROR_DAYS": f"{AGE_ERROR_DAYS}: assumed error of an age read from a sparse time course",
    "FLOOR_DAYS": f"{FLOOR_DAYS}: CS4 vs CS5 end stage of the same mice differ by 3.7 d (Solomon 2011 PLoS ONE 6:e20582)",
    "FLOOR_FRACTION": f"{FLOOR_FRACTION}: assumed model-discrepancy floor for fractions",
    "RECALLED_WIDENING": f"{RECALLED_WIDENING}: error multiplier for rows not read in the primary paper",
}

HINDLIMB = ("gastrocnemius", "tibialis_anterior", "soleus")
_MUSCLE_GROUPS = {"fast_fatigable_muscles": ("tibialis_anterior", "gastrocnemius"), "lumbar_spinal_cord": HINDLIMB}
_RECALLED = ("recalled_check_primary", "recalled_ages_verified_order")
#: Background of rows that do not name one: they apply to every strain.
UNSPECIFIED_STRAIN = "G93A"


@dataclass(frozen=True)
class Statistic:
    """One observed quantity and how to read it from a simulated cohort.

    ``kind`` and ``spec`` say how :func:`alsim.inference.summaries.compute` reads it:

    - ``endpoint_mean`` / ``endpoint_sd``: mean / SD over subjects of ``spec["var"]``
      (``onset_day`` or ``end_stage_day``), optionally of one ``spec["sex"]``;
    - ``readout_at_day``: mean over subjects and ``spec["muscles"]`` of readout
      ``spec["var"]`` on ``spec["day"]`` (carried forward past a subject's end stage);
      ``spec["complement"]`` reads 1 - x;
    - ``readout_at_end_stage``: the same, on each subject's end-stage day;
    - ``crossing_day``: median over subjects of the first day the muscles' mean of
      ``spec["var"]`` (of ``spec["unit_type"]`` if given) falls below ``spec["threshold"]``
      (above, for ``spec["rising"]``);
    - ``crossing_lag``: ``crossing_day`` of ``spec["later"]`` minus that of ``spec["earlier"]``;
    - ``human_*``: the human rows (:mod:`.human_observations`, :mod:`.human_summaries`).

    Observation noise (noisy ABC) is Gaussian with SD ``error_sd``, unless a statistic sets
    ``gaussian_sd`` (then ``error_sd`` is the total SD, for display), ``offset`` (a uniform
    term on [low, high] added to the simulated value: an interval or an unsimulated lag) or
    ``sampling_topup`` (the Gaussian SD is reduced by the simulated cohort's own sampling SE).
    """

    key: str
    label: str
    observed: float
    error_sd: float
    error_basis: str
    unit: str
    kind: str
    spec: dict = field(hash=False, compare=False)
    source: str
    status: str
    fitted: bool = True
    not_fitted_reason: str = ""
    offset: tuple[float, float] = (0.0, 0.0)
    gaussian_sd: float | None = None
    sampling_topup: bool = False

    def noise(self, rng, sampling_se: float = 0.0) -> float:
        """One draw of the observation noise, in the statistic's unit (see the class docstring)."""
        sd = self.error_sd if self.gaussian_sd is None else self.gaussian_sd
        if self.sampling_topup:
            sd = math.sqrt(max(0.0, sd ** 2 - sampling_se ** 2)) if math.isfinite(sampling_se) else sd
        value = rng.normal(0.0, sd) if sd > 0 else 0.0
        low, high = self.offset
        return value + (rng.uniform(low, high) if high > low else 0.0)

    @property
    def short_source(self) -> str:
        return short_source(self.source)

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "observed": self.observed, "error_sd": self.error_sd,
                "error_basis": self.error_basis, "unit": self.unit, "kind": self.kind, "spec": self.spec,
                "source": self.source, "status": self.status, "fitted": self.fitted,
                "not_fitted_reason": self.not_fitted_reason,
                **({"offset": list(self.offset)} if self.offset != (0.0, 0.0) else {}),
                **({"gaussian_sd": self.gaussian_sd} if self.gaussian_sd is not None else {}),
                **({"sampling_topup": True} if self.sampling_topup else {})}


def _combine(base: float, floor: float, status: str) -> tuple[float, str]:
    error = math.hypot(base, floor)
    basis = f"sqrt({base:.3g}^2 + floor {floor:g}^2)"
    if status in _RECALLED:
        error *= RECALLED_WIDENING
        basis += f" x {RECALLED_WIDENING:g} (status {status})"
    return error, basis


def _n_mid(text: str | None) -> float | None:
    """``"4-5"`` -> 4.5, ``"162"`` -> 162; ``None`` for text such as ``"97 studies (...)"``."""
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", text)
    if not match:
        return None
    low = float(match.group(1))
    return (low + float(match.group(2))) / 2 if match.group(2) else low


def _slug(*parts: object) -> str:
    return "_".join(re.sub(r"[^a-z0-9]+", "", str(p).lower()) for p in parts if p not in (None, ""))


def _applies(row_strain: str, strain: str) -> bool:
    return row_strain in (strain, UNSPECIFIED_STRAIN)


def _endpoint_statistics(row: TrainingRow) -> list[Statistic]:
    """Mean (and SD, where reported) of onset / end stage / survival."""
    var = "onset_day" if row.measure == "onset" else "end_stage_day"
    sex = row.sex if row.sex in ("F", "M") else None
    n = _n_mid(row.n)
    if row.sd is not None and n is not None:
        se, how = row.sd / math.sqrt(n), f"SE = SD {row.sd:g} / sqrt(n {n:g})"
    elif row.sd is not None and "SE" in (row.n or ""):  # a meta-analytic mean of means: already a standard error
        se, how = row.sd, f"reported SE {row.sd:g}"
    elif row.sd is not None:
        se, how = row.sd / math.sqrt(10), f"SD {row.sd:g}, n not given: assumed 10"
    elif n is not None:
        se, how = 0.1 * row.value / math.sqrt(n), f"assumed SD 10 % of the mean / sqrt(n {n:g})"
    else:
        se, how = 0.1 * row.value / math.sqrt(10), "assumed SD 10 % of the mean, n 10"
    error, basis = _combine(se, FLOOR_DAYS, row.status)
    fitted, reason = True, ""
    if row.measure == "end_stage" and row.definition and "CS5" in row.definition:
        fitted, reason = False, "CS5 is a later stage than the model's end stage (CS4, hindlimb paralysis)"
    elif row.measure == "survival" and row.strain == "B6SJL":
        fitted, reason = False, "death or humane end point comes after CS4; the B6SJL end stage is fitted to Solomon 2011 CS4"
    spec = {"var": var, **({"sex": sex} if sex else {})}
    stages = re.findall(r"\bCS\d\b", row.definition or "")
    tag = stages[-1] if stages else ""
    who = f", {row.sex}" if sex else ""
    stats = [Statistic(_slug(row.strain, row.measure, tag, row.sex, "mean", short_source(row.source)),
                       f"{row.measure.replace('_', ' ')} mean{who} ({row.strain})", row.value, error,
                       f"{how}; {basis}", "days", "endpoint_mean", spec, row.source, row.status, fitted, reason)]
    if row.sd is not None and n is not None and n > 20:
        sd_se = row.sd / math.sqrt(2 * (n - 1))
        error, basis = _combine(sd_se, 2.0, row.status)
        stats.append(Statistic(_slug(row.strain, row.measure, tag, row.sex, "sd", short_source(row.source)),
                               f"{row.measure.replace('_', ' ')} SD across animals{who} ({row.strain})", row.sd, error,
                               f"SE of an SD = SD / sqrt(2(n-1)); floor 2 d; {basis}", "days", "endpoint_sd", spec,
                               row.source, row.status, fitted, reason))
    return stats


_NMJ_MEASURES = {
    "fully_innervated_fraction": ("endplates_fully_innervated_fraction", False),
    "fully_denervated_fraction": ("endplates_denervated_fraction", False),
    "denervated_fraction": ("endplates_denervated_fraction", False),
    "innervation_loss_vs_wildtype_fraction": ("endplates_innervated_fraction", True),
    "motor_neurons_lost_fraction": ("motor_neurons_alive_fraction", True),
}


#: Measures of the time-course files that the results Dataset cannot be read for, and why.
_NOT_READ = {
    "motor_neurons_degenerating_fraction": "degenerating motor neurons are still alive; the model counts only lost ones",
    "upper_motor_neurons_lost_fraction": "the results Dataset has no upper-motor-neuron readout (the state umn is not reported)",
}


def _time_course_statistic(row: TrainingRow) -> Statistic:
    """An NMJ or motor-neuron fraction at an age (or at end stage)."""
    place = row.muscle_or_region or ""
    muscles = _MUSCLE_GROUPS.get(place, (place,))
    key = _slug(row.strain, row.sex if row.sex in ("F", "M") else "", place, row.measure, f"p{row.age_days:g}",
                short_source(row.source))
    label = f"{row.measure.replace('_', ' ')}, {place.replace('_', ' ')}, P{row.age_days:g}"
    if row.sex in ("F", "M"):
        label += f", {row.sex}"
    label += f" ({row.strain})"
    common = dict(key=key, label=label, observed=row.value, unit="fraction", source=row.source, status=row.status)
    if row.measure not in _NMJ_MEASURES:
        return Statistic(**common, error_sd=math.nan, error_basis="", kind="none", spec={}, fitted=False,
                         not_fitted_reason=_NOT_READ.get(row.measure, "the model has no readout for this measure"))
    var, complement = _NMJ_MEASURES[row.measure]
    n = _n_mid(row.n)
    if n is not None:
        base, how = ANIMAL_SD_FRACTION / math.sqrt(n), f"assumed animal SD {ANIMAL_SD_FRACTION} / sqrt(n {n:g})"
    else:
        base, how = NO_N_ERROR_FRACTION, f"no SD or n: assumed {NO_N_ERROR_FRACTION}"
    error, basis = _combine(base, FLOOR_FRACTION, row.status)
    spec = {"var": var, "muscles": list(muscles), "complement": complement}
    if row.sex in ("F", "M"):
        spec["sex"] = row.sex
    if "end stage" in row.source:
        kind = "readout_at_end_stage"
        common["label"] = label.replace(f"P{row.age_days:g}", "at end stage")
    else:
        kind, spec["day"] = "readout_at_day", int(row.age_days)
    return Statistic(**common, error_sd=error, error_basis=f"{how}; {basis}", kind=kind, spec=spec)


def _age_statistics(strain: str) -> list[Statistic]:
    """Ages read from the qualitative tables: FF then FR loss, functional vs MN loss, diaphragm lag."""
    stats = []
    for record in _read("motor_unit_types.csv"):
        if not _applies(record["strain"].strip(), strain):
            continue
        obs, value, status, source = record["observation"], record["value"], record["status"].strip(), record["source"]
        numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", value)]
        if "(FF) NMJs are lost" in obs and numbers:
            observed, unit_type = numbers[0], "FF"
        elif "(FR) NMJs are lost" in obs and len(numbers) >= 2:
            observed, unit_type = (numbers[0] + numbers[1]) / 2, "FR"
        elif "diaphragm" in obs and "month later" in value:
            error, basis = _combine(AGE_ERROR_DAYS, FLOOR_DAYS, status)
            stats.append(Statistic(
                "diaphragm_denervation_lag", "diaphragm denervation starts after the limb's, days", 30.0, error,
                f"'about one month' read as 30 d; {basis}", "days", "crossing_lag",
                {"earlier": {"var": "endplates_innervated_fraction", "muscles": ["gastrocnemius"], "threshold": LOSS_START_THRESHOLD},
                 "later": {"var": "endplates_innervated_fraction", "muscles": ["diaphragm"], "threshold": LOSS_START_THRESHOLD}},
                source, status))
            continue
        else:
            continue
        error, basis = _combine(AGE_ERROR_DAYS, FLOOR_DAYS, status)
        stats.append(Statistic(
            f"{unit_type.lower()}_units_half_lost_day", f"hindlimb {unit_type} motor units half lost, age in days", observed,
            error, f"{basis}", "days", "crossing_day",
            {"var": "motor_units_functional_by_type_fraction", "unit_type": unit_type, "muscles": list(HINDLIMB),
             "threshold": 0.5}, source, status))
    for record in _read("motor_units.csv"):
        if not _applies(record["strain"].strip(), strain):
            continue
        status, source = record["status"].strip(), record["source"]
        error, basis = _combine(AGE_ERROR_DAYS, FLOOR_DAYS, status)
        functional = {"var": "motor_units_functional_fraction", "muscles": list(HINDLIMB), "threshold": LOSS_START_THRESHOLD}
        neurons = {"var": "motor_neurons_alive_fraction", "muscles": list(HINDLIMB), "threshold": LOSS_START_THRESHOLD}
        if record["value"].strip() == "start":
            stats.append(_loss_start_statistic(record, functional, error, basis, [s.key for s in stats]))
        elif "lead" in record["observation"]:
            observed = float(re.findall(r"\d+", record["value"])[0])
            stats.append(Statistic(
                "functional_unit_loss_lead_days", "lead of functional motor-unit loss over motor-neuron loss, days",
                observed, error, f"{basis}", "days", "crossing_lag", {"earlier": functional, "later": neurons},
                source, status))
    return stats


def _loss_start_statistic(record: dict[str, str], functional: dict, error: float, basis: str,
                          taken: list[str]) -> Statistic:
    """The age at which functional motor units start to fall (below ``LOSS_START_THRESHOLD``).

    A row naming fast-twitch muscles (tibialis anterior, gastrocnemius) is read on those
    two; otherwise on the three hindlimb muscles. The first such row keeps the key
    ``functional_unit_loss_start_day``; later rows add their source to it."""
    muscle = record.get("muscle", "").lower()
    spec = dict(functional)
    where = "hindlimb"
    if ("tibialis" in muscle or "gastrocnemius" in muscle) and "soleus" not in muscle:
        spec["muscles"], where = list(_MUSCLE_GROUPS["fast_fatigable_muscles"]), "fast hindlimb (TA, gastrocnemius)"
    key = "functional_unit_loss_start_day"
    if key in taken:
        key = _slug(key, short_source(record["source"]))
    label = f"{where} functional motor units below {LOSS_START_THRESHOLD:g}, age in days"
    return Statistic(key, label, float(record["age_days"]), error, f"{basis}", "days", "crossing_day", spec,
                     record["source"], record["status"].strip())


def observed_statistics(strain: str) -> list[Statistic]:
    """Every training row that applies to ``strain`` (its own rows and rows of unspecified
    background), as statistics; ``fitted=False`` rows carry the reason they are not fitted."""
    stats: list[Statistic] = []
    for row in load_training():
        if not _applies(row.strain, strain) or row.value is None:
            continue
        if row.file == "onset_survival.csv":
            stats.extend(_endpoint_statistics(row))
        else:
            stats.append(_time_course_statistic(row))
    stats.extend(_age_statistics(strain))
    keys = [s.key for s in stats]
    duplicated = {k for k in keys if keys.count(k) > 1}
    if duplicated:
        raise RuntimeError(f"duplicate statistic keys from the training data: {sorted(duplicated)}")
    return stats


def fitted_statistics(strain: str) -> list[Statistic]:
    """The statistics a calibration of ``strain`` is fitted to."""
    return [s for s in observed_statistics(strain) if s.fitted]
