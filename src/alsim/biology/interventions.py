"""Treatments as mechanisms: the catalogue, ``--treat`` strings and the factors on rates.

A treatment scales model rates (``Treatment.effects``, the factor at full dose). On
day ``t`` (age) its effect fraction is ``e(t) = dose * ramp(t)`` with

- ``ramp = 0`` before the start day,
- ``ramp = 1 - exp(-(t - start) / onset_days)`` from the start day (1 at once when
  ``onset_days`` is 0), and
- after the end day, the ramp reached then decays with ``offset_days``;

and the factor on a target rate is ``1 + (effect - 1) * e(t)``. Factors of several
treatments on the same rate multiply. docs/model.md (*Treatments*) is the rule.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from ..config.loading import ScenarioError
from ..config.schema import Scenario
from ..config.treatments import SUBJECT_TARGETS, AppliedTreatment, Treatment

CATALOGUE_FILE = "treatments.toml"


def effect_fraction(applied: AppliedTreatment, age_days: float) -> float:
    """``e(t)``: the fraction of the treatment's full effect present at age ``age_days``."""
    t = applied.treatment
    if age_days < applied.start_day:
        return 0.0

    def ramp(elapsed: float) -> float:
        return 1.0 if t.onset_days == 0 else -math.expm1(-elapsed / t.onset_days)

    if applied.end_day is None or age_days < applied.end_day:
        return applied.dose * ramp(age_days - applied.start_day)
    at_end = ramp(applied.end_day - applied.start_day)
    after = age_days - applied.end_day
    washout = 0.0 if t.offset_days == 0 else math.exp(-after / t.offset_days)
    return applied.dose * at_end * washout


@dataclass(frozen=True)
class DayFactors:
    """The factor on each treated rate on one day: per muscle, or per subject for the cortex.

    Targets no treatment touches are absent; :meth:`muscle` returns ``None`` for them so
    the engine can skip the multiplication.
    """

    per_muscle: dict[str, np.ndarray]  # target -> (M,) factor
    per_subject: dict[str, float]      # target -> factor (cortex targets)

    def muscle(self, target: str) -> np.ndarray | None:
        return self.per_muscle.get(target)

    def subject(self, target: str) -> float:
        return self.per_subject.get(target, 1.0)


NO_FACTORS = DayFactors({}, {})


def day_factors(scenario: Scenario, age_days: float) -> DayFactors:
    """The factors of all of the scenario's treatments on day ``age_days``."""
    if not scenario.treatments:
        return NO_FACTORS
    names = scenario.muscle_names
    per_muscle: dict[str, np.ndarray] = {}
    per_subject: dict[str, float] = {}
    for applied in scenario.treatments:
        fraction = effect_fraction(applied, age_days)
        reached = _reached(applied.treatment, names)
        for target, full in applied.treatment.effects.items():
            factor = 1.0 + (full - 1.0) * fraction
            if target in SUBJECT_TARGETS:
                per_subject[target] = per_subject.get(target, 1.0) * factor
            else:
                current = per_muscle.setdefault(target, np.ones(len(names)))
                current[reached] *= factor
    return DayFactors(per_muscle, per_subject)


def _reached(treatment: Treatment, muscle_names: list[str]) -> np.ndarray:
    if treatment.reach == "systemic":
        return np.ones(len(muscle_names), dtype=bool)
    return np.array([m in treatment.muscles for m in muscle_names])


# ---------------------------------------------------------------- catalogue


def _read_catalogue_text(text: str, origin: str) -> dict[str, Treatment]:
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{origin}: not valid TOML ({err})") from None
    entries = tree.get("treatment", {})
    if not isinstance(entries, dict) or not entries:
        raise ScenarioError(f"{origin}: expected one or more [treatment.NAME] tables")
    catalogue = {}
    for name, body in entries.items():
        if not isinstance(body, dict):
            raise ScenarioError(f"{origin}: treatment.{name} must be a table")
        try:
            catalogue[name] = Treatment.model_validate({"name": name, **body})
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ScenarioError(f"{origin}: treatment.{name}.{where}: {first['msg']}") from None
    return catalogue


def builtin_catalogue() -> dict[str, Treatment]:
    """The treatments shipped with alsim (``alsim/biology/treatments.toml``)."""
    text = resources.files("alsim.biology").joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return _read_catalogue_text(text, CATALOGUE_FILE)


def load_catalogue(extra_files: list[str | Path] = ()) -> dict[str, Treatment]:
    """The built-in catalogue plus the user's TOML files (same schema; theirs win on a name clash)."""
    catalogue = builtin_catalogue()
    for path in extra_files:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ScenarioError(f"treatment file {path}: cannot read ({err.strerror})") from None
        catalogue.update(_read_catalogue_text(text, str(path)))
    return catalogue


# ---------------------------------------------------------------- NAME[@START_DAY][:DOSE]

_TREAT_PATTERN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(@(?P<start>[^:]*))?(:(?P<dose>.*))?$")


def parse_treatment(text: str, catalogue: dict[str, Treatment], *, default_start: int = 0) -> AppliedTreatment:
    """``NAME[@START_DAY][:DOSE]`` -> an applied treatment (dose 1 and start ``default_start`` if absent)."""
    match = _TREAT_PATTERN.match(text.strip())
    if match is None:
        raise ScenarioError(f"--treat {text!r}: expected NAME[@START_DAY][:DOSE], e.g. musk_agonist@60:0.5")
    name = match["name"]
    if name not in catalogue:
        raise ScenarioError(f"--treat {text!r}: unknown treatment {name!r}; allowed: {', '.join(sorted(catalogue))}")
    start = _parse_number(match["start"], text, "START_DAY", int) if match["start"] is not None else default_start
    dose = _parse_number(match["dose"], text, "DOSE", float) if match["dose"] is not None else 1.0
    treatment = catalogue[name]
    if treatment.kind == "genetic" and match["start"] is None:
        start = 0
    try:
        return AppliedTreatment(label=text.strip(), treatment=treatment, start_day=start, dose=dose)
    except ValidationError as err:
        first = err.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else ""
        field = {"start_day": "START_DAY", "dose": "DOSE"}.get(where, where)
        message = first["msg"].removeprefix("Value error, ")
        raise ScenarioError(f"--treat {text!r}: {field + ': ' if field else ''}{message}") from None


def _parse_number(raw: str, text: str, field: str, kind: type) -> float | int:
    try:
        value = kind(raw)
    except ValueError:
        allowed = "a whole number of days >= 0" if kind is int else "a number from 0 to 1"
        raise ScenarioError(f"--treat {text!r}: {field} must be {allowed}, got {raw!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(f"--treat {text!r}: {field} must be a number from 0 to 1, got {raw!r}")
    return value


def with_treatments(scenario: Scenario, treatments: list[AppliedTreatment]) -> Scenario:
    """A copy of ``scenario`` that also gives ``treatments`` (validated: treated muscles must exist)."""
    values = scenario.model_dump()
    values["treatments"] = [*values["treatments"], *(t.model_dump() for t in treatments)]
    try:
        return Scenario.model_validate(values)
    except ValidationError as err:
        first = err.errors()[0]
        raise ScenarioError(f"treatments: {first['msg']}") from None


# ---------------------------------------------------------------- under which hypothesis a treatment acts

#: Targets whose rate enters the model only through one hypothesis weight (docs/model.md):
#: the cortical drive C and upper-motor-neuron loss only in the dying-forward terms
#: (``w_forward``: unit rule 1's excitotoxic term, ``umn_survival``), the muscle's
#: destabilising signal only in the dying-back retraction term (``w_back M_o (1 + gain S_m)``).
#: Every other target also acts on terms no weight multiplies (starvation, baseline
#: retraction, sprouting, ...), so it acts under every hypothesis.
WEIGHTED_TARGETS: dict[str, str] = {"cortical_drive": "w_forward", "umn_loss": "w_forward",
                                    "destabilisation": "w_back"}


def silent_targets(treatment: Treatment, hypothesis) -> dict[str, str]:
    """The targets of ``treatment`` that change nothing under ``hypothesis`` (a
    :class:`~alsim.config.schema.Hypothesis`): target -> the weight that is 0 there."""
    w_back, w_forward = hypothesis.weights
    zero = {"w_back": w_back == 0.0, "w_forward": w_forward == 0.0}
    return {target: weight for target, weight in WEIGHTED_TARGETS.items()
            if target in treatment.effects and zero[weight]}


def acts_under(treatment: Treatment, hypothesis) -> bool:
    """Whether ``treatment`` changes any rate under ``hypothesis``: some target of it is
    not zeroed by the hypothesis weights (:func:`silent_targets`)."""
    return len(silent_targets(treatment, hypothesis)) < len(treatment.effects)


def hypotheses_acted_under(treatment: Treatment) -> list[str]:
    """The hypothesis names under which ``treatment`` acts, at their preset weights
    (``independent`` with a back weight strictly between 0 and 1, so both pathways on)."""
    from ..config.schema import HYPOTHESES, Hypothesis

    return [name for name in HYPOTHESES
            if acts_under(treatment, Hypothesis(name=name, independent_back_weight=0.5))]


def inert_treatment_warnings(treatments, hypothesis) -> list[str]:
    """One line for each treatment (:class:`AppliedTreatment` or :class:`Treatment`, each
    name once) that changes nothing under ``hypothesis``: its targets and the weights
    that zero them, and the hypotheses under which it would act."""
    w_back, w_forward = hypothesis.weights
    weight_values = {"w_back": w_back, "w_forward": w_forward}
    lines, seen = [], set()
    for given in treatments:
        treatment = getattr(given, "treatment", given)
        if treatment.name in seen or acts_under(treatment, hypothesis):
            continue
        seen.add(treatment.name)
        zeroed = silent_targets(treatment, hypothesis)
        weights = ", ".join(f"{w} = {weight_values[w]:g}" for w in sorted(set(zeroed.values())))
        acts = ", ".join(hypotheses_acted_under(treatment)) or "none"
        lines.append(f"treatment {treatment.name} targets {', '.join(treatment.effects)}, which hypothesis "
                     f"{hypothesis.name} weights 0 ({weights}): it changes nothing here (it acts under: {acts})")
    return lines
