"""A trial design: arms as the user wrote them, animals per arm, replicates, follow-up.

An arm is ``control`` (or ``placebo``: a second untreated arm, to see how often a
null treatment looks positive) or one or more treatments joined by ``+``, each
``NAME[@START_DAY][:DOSE]`` as for ``alsim run --treat``. A design file is TOML::

    scenario = "sod1-g93a-b6sjl"
    arms = ["control", "musk_agonist@60:0.5", "bax_knockout"]
    per_arm = 15
    replicates = 200
    seed = 1
    count_day = 90                          # optional NMJ / motor-unit count day
    count_readout = "endplates_innervated_fraction"
    count_muscle = "gastrocnemius"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..biology.interventions import parse_treatment, with_treatments
from ..config.loading import ScenarioError
from ..config.schema import Scenario
from ..config.treatments import AppliedTreatment, Treatment
from ..readouts import READOUTS

UNTREATED_ARMS = ("control", "placebo")
COUNT_READOUTS = tuple(r.name for r in READOUTS)


@dataclass(frozen=True)
class Arm:
    """One arm: its label exactly as written, and the treatments it gives."""

    label: str
    treatments: tuple[AppliedTreatment, ...]

    def scenario(self, base: Scenario) -> Scenario:
        return with_treatments(base, list(self.treatments)) if self.treatments else base


def parse_arm(text: str, catalogue: dict[str, Treatment]) -> Arm:
    """``control``, ``placebo`` or ``T1+T2+...`` with each ``T`` a ``NAME[@START_DAY][:DOSE]``."""
    label = text.strip()
    if not label:
        raise ScenarioError("--arm: empty arm; expected control, placebo or NAME[@START_DAY][:DOSE][+...]")
    if label in UNTREATED_ARMS:
        return Arm(label, ())
    return Arm(label, tuple(parse_treatment(part, catalogue) for part in label.split("+")))


@dataclass(frozen=True)
class TrialDesign:
    """What a lab decides before the first animal: arms, n, follow-up, endpoints.

    ``per_arm`` animals per arm, followed to age ``days``; with ``replicates`` > 0 the
    whole trial is repeated that many times on fresh animals for power and effect
    distributions. ``count_day`` (age) adds ``count_readout`` in ``count_muscle`` as an
    endpoint. The first untreated arm named ``control`` is the comparator.
    """

    scenario: Scenario
    arms: tuple[Arm, ...]
    per_arm: int
    days: int
    seed: int
    replicates: int = 0
    alpha: float = 0.05
    count_day: int | None = None
    count_readout: str = "endplates_innervated_fraction"
    count_muscle: str | None = None
    labels: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        labels = tuple(arm.label for arm in self.arms)
        object.__setattr__(self, "labels", labels)
        if "control" not in labels:
            raise ScenarioError("--arm: a trial needs a 'control' arm (e.g. --arm control --arm musk_agonist@60)")
        if len(set(labels)) != len(labels):
            raise ScenarioError(f"--arm: each arm must be different; got {', '.join(labels)}")
        if len(labels) < 2:
            raise ScenarioError("--arm: a trial needs at least two arms")
        if self.per_arm < 2:
            raise ScenarioError(f"--per-arm must be at least 2, got {self.per_arm}")
        if self.count_day is not None and not 0 <= self.count_day <= self.days:
            raise ScenarioError(f"count_day must be between 0 and the follow-up ({self.days} days), got {self.count_day}")
        if self.count_readout not in COUNT_READOUTS:
            raise ScenarioError(f"count_readout: unknown readout {self.count_readout!r}; allowed: {', '.join(COUNT_READOUTS)}")
        if self.count_muscle is not None and self.count_muscle not in self.scenario.muscles:
            raise ScenarioError(f"count_muscle: unknown muscle {self.count_muscle!r}; allowed: {', '.join(self.scenario.muscles)}")

    @property
    def muscle_for_count(self) -> str:
        return self.count_muscle or self.scenario.muscle_names[0]


DESIGN_KEYS = {"scenario", "arms", "per_arm", "replicates", "seed", "days", "alpha", "count_day", "count_readout",
               "count_muscle", "set", "hypothesis", "treatments"}


#: Whole numbers of a design file and their ranges (those of the command-line options).
_DESIGN_INTS = {"per_arm": (2, 100_000), "replicates": (0, 100_000), "seed": (0, None), "days": (1, 36_500),
                "count_day": (0, 36_500)}
_DESIGN_STRINGS = {"scenario", "count_readout", "count_muscle", "hypothesis"}
_DESIGN_LISTS = {"arms", "set", "treatments"}


def read_design_file(path: Path) -> dict:
    """The settings of a TOML design file, each of the right type and range (ScenarioError
    names the key); arms, scenario and readouts are checked when the design is built."""
    try:
        tree = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ScenarioError(f"design file {path}: cannot read ({err.strerror})") from None
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"design file {path}: not valid TOML ({err})") from None
    except (ValueError, RecursionError) as err:   # not UTF-8; nested too deeply
        raise ScenarioError(f"design file {path}: not a readable TOML file ({type(err).__name__})") from None
    unknown = sorted(set(tree) - DESIGN_KEYS)
    if unknown:
        raise ScenarioError(f"design file {path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(DESIGN_KEYS))}")
    for key, value in tree.items():
        problem = _design_value_problem(key, value)
        if problem:
            raise ScenarioError(f"design file {path}: {key} {problem}, got {value!r}")
    return tree


def _design_value_problem(key: str, value) -> str | None:
    if key in _DESIGN_INTS:
        low, high = _DESIGN_INTS[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
            return f"must be a whole number from {low}" + (f" to {high}" if high is not None else " up")
    elif key == "alpha":   # NaN would make every test 'not significant' without a word
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
            return "must be a number between 0 and 1 (exclusive)"
    elif key in _DESIGN_STRINGS and not isinstance(value, str):
        return "must be a string"
    elif key in _DESIGN_LISTS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return "must be a list of strings"
    return None
