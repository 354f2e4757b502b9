"""The reference stepper: the model of ``docs/model.md`` written out cell by cell.

This is the slow, obviously correct oracle against which the compiled engine is
tested. Each motor unit (a motor neuron, its axon and its terminals) is one
:class:`ReferenceUnit`; each endplate (one muscle fibre and its neuromuscular
junction) is one :class:`ReferenceEndplate`. A day is stepped with plain loops and
``math`` functions, and every rule carries its number from ``docs/model.md``
("unit rule 3", "endplate rule 2", ...), so it can be read line by line against the
specification. It imports nothing from the engines or the production rules (``alsim.biology``):
only the scenario schema; the human spread's draws are transcribed here from
docs/human.md (*Spread*), from the same random stream as the engine's.

Timing (docs/model.md, *Time*): every rate of day ``t`` is evaluated on the state at
age ``t``; all objects first *plan* their next state from that frozen state, and only
then are all plans *committed* at once. Time is in days, ``dt = 1``.

Readouts are not masked after end stage here (the masking is a presentation step).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from alsim.config.schema import Muscle, Scenario, UnitType

DT = 1.0
"""Step length, days."""

SNAPSHOT_EVERY_DAYS = 7
"""Per-unit snapshots on every 7th day of age and the last (as the engines' census)."""
SNAPSHOT_EVERY_DAYS_HUMAN = 28
"""In human scenarios every 28th day."""

ENDPLATE_READOUTS = ("endplates_innervated_fraction", "endplates_fully_innervated_fraction", "endplates_denervated_fraction")
UNIT_READOUTS = ("motor_neurons_alive_fraction", "axons_intact_fraction", "motor_units_functional_fraction", "mean_motor_unit_size")
MUSCLE_READOUTS = (*ENDPLATE_READOUTS, *UNIT_READOUTS, "force_fraction")

FULL, PARTIAL, DENERVATED = 2, 1, 0
"""Endplate coverage: fully innervated, partially innervated, denervated."""

QUIESCENT, REACTIVE, LOST = "quiescent", "reactive", "lost"
"""Terminal Schwann cell states."""


# ---------------------------------------------------------------------------------
# Chance: hazards per day become probabilities per day (docs/model.md, *Time*)
# ---------------------------------------------------------------------------------


def event_probability(hazard: float) -> float:
    """Probability ``1 - exp(-h dt)`` that an event of hazard ``h`` (per day) happens in a day."""
    return -math.expm1(-hazard * DT)


def happens(rng: np.random.Generator, hazard: float) -> bool:
    """Draw whether a single event of hazard ``hazard`` (per day) happens today."""
    return hazard > 0.0 and rng.random() < event_probability(hazard)


def draw_competing(rng: np.random.Generator, hazards: dict[str, float]) -> str | None:
    """Draw at most one of several competing events of one cell in one day.

    With total hazard ``H``, an event happens with probability ``1 - exp(-H dt)``, and it
    is event ``i`` with probability ``h_i / H``. Returns the event's name, or None.
    """
    total = sum(hazards.values())
    if total <= 0.0 or rng.random() >= event_probability(total):
        return None
    return weighted_choice(rng, list(hazards), list(hazards.values()))


def weighted_choice(rng: np.random.Generator, items: list, weights: list[float]):
    """Pick one item with probability proportional to its (non-negative) weight."""
    target = rng.random() * sum(weights)
    cumulative = 0.0
    for item, weight in zip(items, weights):
        cumulative += weight
        if target < cumulative and weight > 0.0:
            return item
    return [item for item, weight in zip(items, weights) if weight > 0.0][-1]  # float round-off at the top


# ---------------------------------------------------------------------------------
# Structure of one subject (docs/model.md, *Structure of one subject*)
# ---------------------------------------------------------------------------------


def unit_types_of(muscle: Muscle) -> list[str]:
    """Types of the muscle's units in order: the first round(fraction_S n) are S,
    the next round(fraction_FR n) FR, the rest FF (Python's ``round``, half to even).

    If the two rounded counts exceed ``n``, FR gets what is left after S.
    """
    n = muscle.n_motor_units
    n_s = min(n, round(muscle.fraction_S * n))
    n_fr = min(n - n_s, round(muscle.fraction_FR * n))
    return ["S"] * n_s + ["FR"] * n_fr + ["FF"] * (n - n_s - n_fr)


def largest_remainder_sizes(n_fibres: int, weights: list[float]) -> list[int]:
    """Baseline sizes ``n0_u`` (endplates per unit): ``n_fibres`` shared in proportion to
    the weights by largest remainder, in exact rational arithmetic.

    Each unit gets ``floor(n_fibres w_u / sum(w))``; the leftover endplates go one each
    to the largest fractional parts (ties to the lower index). A unit left with 0 then
    takes one endplate from the largest unit (ties to the lower index).
    """
    exact = [Fraction(w) for w in weights]
    total = sum(exact)
    quotas = [n_fibres * w / total for w in exact]
    sizes = [math.floor(q) for q in quotas]
    leftover = n_fibres - sum(sizes)
    by_remainder = sorted(range(len(sizes)), key=lambda u: (-(quotas[u] - sizes[u]), u))
    for u in by_remainder[:leftover]:
        sizes[u] += 1
    for u in range(len(sizes)):
        if sizes[u] == 0:
            largest = max(range(len(sizes)), key=lambda v: (sizes[v], -v))
            sizes[largest] -= 1
            sizes[u] = 1
    return sizes


def hypothesis_weights(scenario: Scenario) -> tuple[float, float]:
    """``(w_back, w_forward)``: how much damage lands on the terminal and on the soma/cortex."""
    hypothesis = scenario.hypothesis
    if hypothesis.name == "dying_back":
        return 1.0, 0.0
    if hypothesis.name == "dying_forward":
        return 0.0, 1.0
    return hypothesis.independent_back_weight, 1.0 - hypothesis.independent_back_weight


def disease_burden(b: float, age_days: float, scenario: Scenario) -> float:
    """``D(t) = b (t / burden_scale_days) ** burden_exponent``: toxic load of mutant SOD1."""
    disease = scenario.disease
    return b * (age_days / disease.burden_scale_days) ** disease.burden_exponent


def early_burden(b: float, age_days: float, scenario: Scenario) -> float:
    """*Structural alternatives*, ``clock = two_phase``: ``D_e(t) = b A_e (1 - exp(-(t - t_e) / tau_e))``
    for ``t > t_e``, 0 before, and 0 under any other clock."""
    structure = scenario.structure
    if structure.clock != "two_phase" or age_days <= structure.early_burden_start_day:
        return 0.0
    elapsed = age_days - structure.early_burden_start_day
    return b * structure.early_burden_amplitude * (1.0 - math.exp(-elapsed / structure.early_burden_time_constant_days))


def treatment_factor(scenario: Scenario, target: str, muscle: str | None, age: float) -> float:
    """*Treatments*: the product over treatments of ``1 + (effect - 1) e(t)`` on ``target``
    in ``muscle`` (``None`` for the cortex), ``e(t)`` the dose times the onset/offset ramp."""
    factor = 1.0
    for applied in scenario.treatments:
        treatment = applied.treatment
        if target not in treatment.effects:
            continue
        if muscle is not None and treatment.reach == "local" and muscle not in treatment.muscles:
            continue
        factor *= 1.0 + (treatment.effects[target] - 1.0) * applied.dose * _treatment_ramp(applied, age)
    return factor


def _treatment_ramp(applied, age: float) -> float:
    treatment, start, end = applied.treatment, applied.start_day, applied.end_day
    if age < start:
        return 0.0
    last = age if end is None or age < end else end
    built = 1.0 if treatment.onset_days == 0 else 1.0 - math.exp(-(last - start) / treatment.onset_days)
    if end is None or age < end:
        return built
    return 0.0 if treatment.offset_days == 0 else built * math.exp(-(age - end) / treatment.offset_days)


class Day(NamedTuple):
    """Subject-wide quantities of one day, from the start-of-day state."""

    burden: float
    """``D(t)``, dimensionless: the cortex's burden (the onset region's, under spread)."""
    muscle_burden: dict[str, float]
    """``D(t - delay_m)`` of each muscle (docs/human.md, *Spread*); ``D(t)`` without spread."""
    cortical_drive: float
    """``C = umn * hyperexcitability_gain * D(t) * F_cortical_drive``: excitotoxic drive from the cortex."""
    factors: dict[tuple[str, str | None], float]
    """Treatment factor of each treated (target, muscle) on this day; absent ones are 1."""
    muscle_early_burden: dict[str, float] | None = None
    """``D_e(t - delay_m)`` of each muscle under ``clock = two_phase`` (*Structural alternatives*); None: 0."""

    def early(self, muscle: str) -> float:
        """The early terminal burden ``D_e`` of ``muscle`` today (0 unless ``clock = two_phase``)."""
        return 0.0 if self.muscle_early_burden is None else self.muscle_early_burden[muscle]

    def factor(self, target: str, muscle: str | None) -> float:
        """Treatment factor ``F_target`` in ``muscle`` (``None``: the cortex) on this day."""
        return self.factors.get((target, muscle), 1.0)


# ---------------------------------------------------------------------------------
# Motor units
# ---------------------------------------------------------------------------------


class UnitNext(NamedTuple):
    """A unit's state at the end of the day."""

    soma_alive: bool
    axon_intact: bool
    stress: float
    transport: float


class ReferenceUnit:
    """One motor unit: a lower motor neuron (soma), its axon and the endplates it owns.

    ``stress`` is ``M_u`` (mitochondrial stress, dimensionless); ``transport`` is
    ``T_u`` (axonal transport capacity, 0 to 1); ``size`` is ``n_u``, derived at the
    start of each day by the subject; ``n0`` is the baseline size (fibres).
    """

    def __init__(self, index: int, unit_type: str, params: UnitType, n0: int, muscle: "ReferenceMuscle") -> None:
        self.index = index
        self.unit_type = unit_type
        self.params = params
        self.n0 = n0
        self.muscle = muscle
        self.soma_alive = True
        self.axon_intact = True
        self.stress = 0.0
        self.transport = 1.0
        self.size = n0
        self.vulnerable = True
        """``soma_survival = orphan``: whether the soma dies after target loss (drawn by the subject)."""
        self.sprouting_stress_scale: float | None = None
        """``sprouting = stress_limited``: ``m_s``, set by the muscle; None under healthy sprouting."""

    def size_ratio(self) -> float:
        """``min(1, n_u / n0_u)``: share of the baseline terminals the unit still has."""
        return min(1.0, self.size / self.n0)

    def trophic_support(self) -> float:
        """``Phi_u = T_u min(1, n_u / n0_u)``, 0 without an intact axon: muscle-derived
        trophic factors need terminals to take them up and transport to carry them."""
        return self.transport * self.size_ratio() if self.axon_intact else 0.0

    def plan_day(self, rng: np.random.Generator, scenario: Scenario, day: Day) -> UnitNext:
        """Unit rules 1-4 on the start-of-day state."""
        return UnitNext(
            soma_alive=self.soma_alive and not happens(rng, self.soma_death_hazard(scenario, day)),  # rule 1
            axon_intact=self.axon_intact and not happens(rng, self.axon_degeneration_hazard(scenario, day)),  # rule 2
            stress=self.next_stress(scenario, day),  # rule 3
            transport=self.next_transport(scenario, day),  # rule 4
        )

    def soma_death_hazard(self, scenario: Scenario, day: Day) -> float:
        """Unit rule 1: soma death, per day (stress, excitotoxicity, starvation, ageing)."""
        rates, muscle = scenario.rates, self.muscle.name
        _, w_forward = hypothesis_weights(scenario)
        forward = rates.soma_stress_death * self.stress + rates.soma_excitotoxic_death * self.params.vulnerability * day.cortical_drive
        if scenario.structure.soma_survival == "orphan":
            # *Structural alternatives*: only a vulnerable unit without terminals or axon starves
            orphaned = self.vulnerable and (self.size == 0 or not self.axon_intact)
            starvation = scenario.structure.orphan_death * (1.0 if orphaned else 0.0) * day.factor("soma_starvation", muscle)
        else:
            starvation = rates.soma_starvation_death * (1.0 - self.trophic_support()) * day.factor("soma_starvation", muscle)
        return (w_forward * forward + starvation) * day.factor("soma_death", muscle) + rates.soma_ageing_death

    def axon_degeneration_hazard(self, scenario: Scenario, day: Day) -> float:
        """Unit rule 2: Wallerian degeneration after soma death, else dying-back of an
        axon that has lost its terminals; per day. Drawn independently of rule 1."""
        if not self.soma_alive:
            return scenario.rates.wallerian_axon
        return scenario.rates.axon_dieback * (1.0 - self.size_ratio()) * day.factor("axon_dieback", self.muscle.name)

    def next_stress(self, scenario: Scenario, day: Day) -> float:
        """Unit rule 3: stress production ``P_u`` relaxing with time constant ``tau`` (days)."""
        rates = scenario.rates
        nbar0 = self.muscle.params.n_fibres / self.muscle.params.n_motor_units
        production = day.muscle_burden[self.muscle.name] * self.params.vulnerability * self.params.activity * (self.size / nbar0) ** rates.stress_size_exponent
        production *= day.factor("stress_production", self.muscle.name)
        tau = rates.stress_time_constant_days
        decay = math.exp(-DT / tau)
        return self.stress * decay + production * tau * (1.0 - decay)

    def terminal_stress(self, scenario: Scenario, day: Day) -> float:
        """The stress endplate rule 1 reads: ``M_u``, plus under ``clock = two_phase`` the early
        burden's production (rule 3 with ``D_e`` for ``D``) times ``tau``, its steady level."""
        early = day.early(self.muscle.name)
        if scenario.structure.clock != "two_phase":
            return self.stress
        rates = scenario.rates
        nbar0 = self.muscle.params.n_fibres / self.muscle.params.n_motor_units
        production = early * self.params.vulnerability * self.params.activity * (self.size / nbar0) ** rates.stress_size_exponent
        production *= day.factor("stress_production", self.muscle.name)
        return self.stress + production * rates.stress_time_constant_days

    def next_transport(self, scenario: Scenario, day: Day) -> float:
        """Unit rule 4: transport declines with stress (more in longer axons) and recovers."""
        rates = scenario.rates
        k = rates.transport_decline_per_stress * (self.muscle.params.axon_length_mm / rates.reference_axon_length_mm) * self.stress
        k *= day.factor("transport_decline", self.muscle.name)
        r = rates.transport_recovery
        if k + r == 0.0:
            return self.transport
        t_eq = r / (k + r)
        return t_eq + (self.transport - t_eq) * math.exp(-(k + r) * DT)

    def commit(self, next_state: UnitNext) -> None:
        self.soma_alive, self.axon_intact, self.stress, self.transport = next_state

    def is_functional(self) -> bool:
        """A functional unit has an intact axon and at least one terminal."""
        return self.axon_intact and self.size >= 1

    def sprouting_capacity(self) -> int:
        """``cap_v = max(0, floor(max_enlargement_k n0_v) - n_v)``: endplates it can still adopt."""
        return max(0, math.floor(self.params.max_enlargement * self.n0) - self.size)

    def sprouting_weight(self) -> float:
        """``sprouting_competence_k T_v cap_v`` if the unit can donate sprouts, else 0
        (a donor needs a live soma, an intact axon and at least one terminal)."""
        if not (self.soma_alive and self.axon_intact and self.size >= 1):
            return 0.0
        weight = self.params.sprouting_competence * self.transport * self.sprouting_capacity()
        if self.sprouting_stress_scale is not None:     # *Structural alternatives*, stress_limited
            weight *= math.exp(-self.stress / self.sprouting_stress_scale)
        return weight


# ---------------------------------------------------------------------------------
# Endplates
# ---------------------------------------------------------------------------------


class EndplateNext(NamedTuple):
    """An endplate's state at the end of the day, before sprouts are granted."""

    owner: ReferenceUnit | None
    coverage: int
    tsc: str
    stability: float
    intact: bool
    days_denervated: int
    csa: float
    fibre_type: str
    wants_sprout: bool


class ReferenceEndplate:
    """One endplate: a muscle fibre, its neuromuscular junction and terminal Schwann cell.

    ``coverage`` is 0 (denervated), 1 (partial: retracting terminal or immature sprout)
    or 2 (full); ``stability`` is ``A`` (AChR-cluster stability, 0 to 1); ``csa`` the
    fibre cross-section relative to normal.
    """

    def __init__(self, owner: ReferenceUnit) -> None:
        self.owner: ReferenceUnit | None = owner
        self.coverage = FULL
        self.tsc = QUIESCENT
        self.stability = 1.0
        self.intact = True
        self.days_denervated = 0
        self.csa = 1.0
        self.fibre_type = owner.unit_type

    def plan_day(self, rng: np.random.Generator, scenario: Scenario, day: Day, expression: float, muscle: str) -> EndplateNext:
        """Endplate rules 1-6 on the start-of-day state; ``expression`` is the ``S_m`` of its ``muscle``."""
        if not self.intact:
            return self._next(csa=self.next_csa(scenario))  # disassembled: only rule 5 atrophy
        owner, coverage, intact, wants_sprout = self.owner, self.coverage, True, False
        if self.coverage >= PARTIAL:  # rule 1
            owner, coverage = self.terminal_event(rng, scenario, expression, day, muscle)
        else:  # rule 2 (sprouting) and rule 4 (disassembly) compete
            event = draw_competing(rng, {"sprout": self.sprouting_hazard(scenario, expression) * day.factor("sprouting", muscle),
                                         "disassemble": self.disassembly_hazard(scenario) * day.factor("disassembly", muscle)})
            wants_sprout, intact = event == "sprout", event != "disassemble"
        return self._next(
            owner=owner,
            coverage=coverage,
            tsc=self.next_tsc(rng, scenario, day, muscle),  # rule 3
            stability=self.next_stability(scenario, day, muscle),  # rule 4
            intact=intact,
            days_denervated=self.days_denervated + 1 if self.coverage == DENERVATED else 0,  # rule 6
            csa=self.next_csa(scenario),  # rule 5
            fibre_type=self.next_fibre_type(rng, scenario),  # rule 5
            wants_sprout=wants_sprout,
        )

    def _next(self, **changes) -> EndplateNext:
        now = EndplateNext(self.owner, self.coverage, self.tsc, self.stability, self.intact, self.days_denervated, self.csa, self.fibre_type, False)
        return now._replace(**changes)

    def terminal_event(self, rng: np.random.Generator, scenario: Scenario, expression: float, day: Day,
                       muscle: str) -> tuple[ReferenceUnit | None, int]:
        """Endplate rule 1: the terminal is lost (owner's axon degenerated), retracts by one
        level, or expands to full coverage. Returns the new (owner, coverage)."""
        rates, owner = scenario.rates, self.owner
        if not owner.axon_intact:
            return (None, DENERVATED) if happens(rng, rates.wallerian_terminal) else (owner, self.coverage)
        w_back, _ = hypothesis_weights(scenario)
        destabilised = 1.0 + scenario.muscle_feedback.destabilising_gain * expression * day.factor("destabilisation", muscle)
        retract = (w_back * rates.terminal_retraction_per_stress * owner.terminal_stress(scenario, day) * destabilised
                   + rates.terminal_retraction_baseline)
        hazards = {"retract": retract * day.factor("retraction", muscle)}
        if self.coverage == PARTIAL:
            hazards["expand"] = rates.terminal_expansion * owner.transport
        event = draw_competing(rng, hazards)
        if event == "retract":
            coverage = self.coverage - 1
            return (owner if coverage >= PARTIAL else None), coverage
        if event == "expand":
            return owner, FULL
        return owner, self.coverage

    def sprouting_hazard(self, scenario: Scenario, expression: float) -> float:
        """Endplate rule 2: hazard per day that a denervated endplate attracts a sprout,
        guided by its terminal Schwann cell and raised by the muscle's trophic signals."""
        tsc = scenario.terminal_schwann_cells
        guidance = {QUIESCENT: tsc.guidance_quiescent, REACTIVE: 1.0, LOST: tsc.guidance_lost}[self.tsc]
        return scenario.rates.sprouting * guidance * (1.0 + scenario.muscle_feedback.sprouting_signal_gain * expression)

    def disassembly_hazard(self, scenario: Scenario) -> float:
        """Endplate rule 4: hazard per day that a denervated endplate is disassembled."""
        return scenario.rates.endplate_disassembly * (1.0 - self.stability)

    def next_tsc(self, rng: np.random.Generator, scenario: Scenario, day: Day, muscle: str) -> str:
        """Endplate rule 3: competing transitions of the terminal Schwann cell."""
        params = scenario.terminal_schwann_cells
        hazards = {}
        if self.tsc == QUIESCENT and self.coverage < FULL:
            hazards[REACTIVE] = params.activation
        if self.tsc == REACTIVE and self.coverage == FULL:
            hazards[QUIESCENT] = params.quiescence
        if self.tsc != LOST and self.coverage == DENERVATED:
            burden = day.muscle_burden[muscle] + day.early(muscle)   # D + D_e (*Structural alternatives*)
            hazards[LOST] = params.loss_per_burden * burden * day.factor("tsc_loss", muscle)
        return draw_competing(rng, hazards) or self.tsc

    def next_stability(self, scenario: Scenario, day: Day, muscle: str) -> float:
        """Endplate rule 4: agrin signalling restores ``A`` under a terminal; it decays without."""
        rates = scenario.rates
        if self.coverage >= PARTIAL:
            return 1.0 - (1.0 - self.stability) * math.exp(-rates.agrin_maintenance * self.coverage / 2.0 * DT)
        return self.stability * math.exp(-rates.achr_decay * day.factor("disassembly", muscle) * DT)

    def next_csa(self, scenario: Scenario) -> float:
        """Endplate rule 5: an innervated fibre regrows to normal, a denervated one atrophies to the floor."""
        rates = scenario.rates
        if self.coverage >= PARTIAL:
            return 1.0 + (self.csa - 1.0) * math.exp(-rates.fibre_regrowth * DT)
        floor = rates.fibre_csa_floor
        return floor + (self.csa - floor) * math.exp(-rates.fibre_atrophy * DT)

    def next_fibre_type(self, rng: np.random.Generator, scenario: Scenario) -> str:
        """Endplate rule 5: an innervated fibre takes its owner's type (independent draw)."""
        if self.coverage >= PARTIAL and self.fibre_type != self.owner.unit_type:
            if happens(rng, scenario.rates.fibre_type_conversion):
                return self.owner.unit_type
        return self.fibre_type

    def commit(self, next_state: EndplateNext) -> None:
        (self.owner, self.coverage, self.tsc, self.stability, self.intact, self.days_denervated, self.csa, self.fibre_type, _) = next_state

    def force(self, scenario: Scenario) -> float:
        """Force of the fibre (relative): only through a terminal of an intact axon."""
        if not (self.intact and self.coverage >= PARTIAL and self.owner.axon_intact):
            return 0.0
        transmission = 1.0 if self.coverage == FULL else scenario.neuromuscular.partial_transmission
        return self.csa * scenario.unit_types[self.fibre_type].fibre_specific_force * transmission


# ---------------------------------------------------------------------------------
# Muscles and subjects
# ---------------------------------------------------------------------------------


class ReferenceMuscle:
    """One muscle: its units, its endplates and its expression programme ``S_m`` (0 to 1)."""

    def __init__(self, name: str, params: Muscle, scenario: Scenario) -> None:
        self.name = name
        self.params = params
        self.expression = 0.0
        types = unit_types_of(params)
        sizes = largest_remainder_sizes(params.n_fibres, [scenario.unit_types[k].innervation_ratio_relative for k in types])
        self.units = [ReferenceUnit(u, k, scenario.unit_types[k], n0, self) for u, (k, n0) in enumerate(zip(types, sizes))]
        if scenario.structure.sprouting == "stress_limited":
            for unit in self.units:
                unit.sprouting_stress_scale = scenario.structure.sprouting_stress_scale
        self.endplates = [ReferenceEndplate(unit) for unit in self.units for _ in range(unit.n0)]

    def derive_sizes(self) -> None:
        """Start of day: ``n_u`` = intact endplates owned by ``u`` with coverage >= 1."""
        for unit in self.units:
            unit.size = 0
        for endplate in self.endplates:
            if endplate.intact and endplate.coverage >= PARTIAL:
                endplate.owner.size += 1

    def intact_endplates(self) -> list[ReferenceEndplate]:
        return [e for e in self.endplates if e.intact]

    def denervated_fraction(self) -> float:
        """``delta_m``: fraction of intact endplates with coverage 0 (0 when none is intact)."""
        intact = self.intact_endplates()
        return sum(e.coverage == DENERVATED for e in intact) / len(intact) if intact else 0.0

    def force(self, scenario: Scenario) -> float:
        """``F_m``: summed force of the fibres (relative units)."""
        return sum(e.force(scenario) for e in self.endplates)

    def grant_sprouts(self, rng: np.random.Generator, plans: list[EndplateNext]) -> list[EndplateNext]:
        """Endplate rule 2: each requesting endplate picks a donor by start-of-day weight;
        a donor asked more than ``cap_v`` times keeps ``cap_v`` chosen uniformly at random.
        Granted endplates get coverage 1 and the donor as owner."""
        weights = [unit.sprouting_weight() for unit in self.units]
        requests = [i for i, plan in enumerate(plans) if plan.wants_sprout]
        if not requests or sum(weights) == 0.0:
            return plans
        asked: dict[int, list[int]] = {}
        for i in requests:
            asked.setdefault(weighted_choice(rng, list(range(len(self.units))), weights), []).append(i)
        granted = list(plans)
        for donor, endplates in asked.items():
            capacity = self.units[donor].sprouting_capacity()
            kept = endplates if len(endplates) <= capacity else rng.choice(endplates, size=capacity, replace=False)
            for i in kept:
                granted[i] = granted[i]._replace(owner=self.units[donor], coverage=PARTIAL)
        return granted

    def readouts(self, scenario: Scenario) -> dict[str, float]:
        """The table of *Readouts* for this muscle from the current (start-of-day) state,
        with the absolute force ``F_m`` under ``force`` (the caller divides by ``F_m(0)``)."""
        intact = self.intact_endplates()
        n_units = len(self.units)
        functional = [u.size for u in self.units if u.is_functional()]
        return {
            "endplates_innervated_fraction": _fraction(sum(e.coverage >= PARTIAL for e in intact), len(intact)),
            "endplates_fully_innervated_fraction": _fraction(sum(e.coverage == FULL for e in intact), len(intact)),
            "endplates_denervated_fraction": _fraction(sum(e.coverage == DENERVATED for e in intact), len(intact)),
            "motor_neurons_alive_fraction": sum(u.soma_alive for u in self.units) / n_units,
            "axons_intact_fraction": sum(u.axon_intact for u in self.units) / n_units,
            "motor_units_functional_fraction": len(functional) / n_units,
            "mean_motor_unit_size": _fraction(sum(functional), len(functional)),
            "force": self.force(scenario),
        }


def _fraction(count: float, total: int) -> float:
    return count / total if total else math.nan


class ReferenceSubject:
    """One animal: its burden ``b``, sex, upper motor neurons (``umn``) and muscles."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator, z_litter: float,
                 muscle_delay: dict[str, float] | None = None) -> None:
        self.scenario = scenario
        self.rng = rng
        self.is_female, self.burden_multiplier = draw_burden(scenario, rng, z_litter)
        self.muscle_delay = muscle_delay or {name: 0.0 for name in scenario.muscles}
        self.umn = 1.0
        self.muscles = [ReferenceMuscle(name, params, scenario) for name, params in scenario.muscles.items()]
        if scenario.structure.soma_survival == "orphan":
            # *Structural alternatives*: each unit, in order, is vulnerable with probability 1 - resilient_fraction
            for muscle in self.muscles:
                for unit in muscle.units:
                    unit.vulnerable = bool(rng.random() >= scenario.structure.resilient_fraction)
        self.derive()

    def derive(self) -> None:
        """The derived start-of-day quantities (unit sizes ``n_u``)."""
        for muscle in self.muscles:
            muscle.derive_sizes()

    def day(self, age: int) -> Day:
        burden = disease_burden(self.burden_multiplier, age, self.scenario)
        scenario = self.scenario
        targets = {target for applied in scenario.treatments for target in applied.treatment.effects}
        factors = {(target, muscle): treatment_factor(scenario, target, muscle, age)
                   for target in targets for muscle in [None, *scenario.muscles]}
        drive = self.umn * scenario.upper_motor_neuron.hyperexcitability_gain * burden
        muscle_burden = {m: disease_burden(self.burden_multiplier, max(age - delay, 0.0), scenario) if delay else burden
                         for m, delay in self.muscle_delay.items()}
        early = {m: early_burden(self.burden_multiplier, max(age - delay, 0.0), scenario)
                 for m, delay in self.muscle_delay.items()}
        return Day(burden, muscle_burden, drive * factors.get(("cortical_drive", None), 1.0), factors, early)

    def step(self, age: int) -> None:
        """Advance from age ``age`` to ``age + 1``: plan everything on the start-of-day state, then commit."""
        scenario, rng, day = self.scenario, self.rng, self.day(age)
        unit_plans = [[unit.plan_day(rng, scenario, day) for unit in m.units] for m in self.muscles]
        endplate_plans = [[e.plan_day(rng, scenario, day, m.expression, m.name) for e in m.endplates] for m in self.muscles]
        endplate_plans = [m.grant_sprouts(rng, plans) for m, plans in zip(self.muscles, endplate_plans)]
        deltas = [m.denervated_fraction() for m in self.muscles]
        _, w_forward = hypothesis_weights(scenario)
        umn_loss = w_forward * scenario.upper_motor_neuron.loss_per_burden_day * day.burden * day.factor("umn_loss", None)
        self.umn *= math.exp(-umn_loss * DT)  # *Upper motor neurons*
        tau_s = scenario.muscle_feedback.expression_time_constant_days
        for muscle, units, endplates, delta in zip(self.muscles, unit_plans, endplate_plans, deltas):
            muscle.expression = delta + (muscle.expression - delta) * math.exp(-DT / tau_s)  # *Muscle and subject rules*
            for unit, plan in zip(muscle.units, units):
                unit.commit(plan)
            for endplate, plan in zip(muscle.endplates, endplates):
                endplate.commit(plan)
        self.derive()


def draw_burden(scenario: Scenario, rng: np.random.Generator, z_litter: float) -> tuple[bool, float]:
    """*Variability*: sex, then copy-number ``z_copy``, from the subject's stream; returns
    (is_female, b) with ``b`` lognormal with mean ``burden_multiplier`` (times the male ratio)."""
    v = scenario.variability
    is_female = bool(rng.random() < v.female_fraction)
    z_copy = float(rng.standard_normal())
    s_c, s_l = v.copy_number_log_sd, v.litter_log_sd
    b = scenario.disease.burden_multiplier * math.exp(s_c * z_copy - s_c**2 / 2) * math.exp(s_l * z_litter - s_l**2 / 2)
    return is_female, b * (1.0 if is_female else v.male_burden_ratio)


SPREAD_STREAM_KEY = 6
"""docs/human.md, *Focal onset and spread*: the spread draws' own stream, ``SeedSequence(seed, spawn_key=(6, i))``."""


def spread_delays(scenario: Scenario, seed: int, subject: int) -> dict[str, float]:
    """docs/human.md, *Focal onset and spread*: days before each muscle carries the burden.

    Subject ``subject`` draws from its own spread stream a uniform ``u`` (the onset region is
    the first whose cumulative probability exceeds ``u``) and one standard normal ``z_r`` per
    region (in the order regions first appear among the muscles); region ``r`` starts
    ``median_delay_days[onset][r] * exp(delay_log_sd * z_r)`` days late, the onset region at 0.
    Without ``spread`` every delay is 0.
    """
    spread = scenario.spread
    if spread is None:
        return {name: 0.0 for name in scenario.muscles}
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(SPREAD_STREAM_KEY, subject))))
    names = list(spread.onset_region_probabilities)
    total = sum(spread.onset_region_probabilities.values())
    u, cumulative, onset = rng.random(), 0.0, names[-1]
    for name in names:
        cumulative += spread.onset_region_probabilities[name]
        if u < cumulative / total:
            onset = name
            break
    regions = list(dict.fromkeys(m.region for m in scenario.muscles.values()))
    z = rng.standard_normal(len(regions))
    delay = {r: 0.0 if r == onset else float(spread.median_delay_days[onset][r] * math.exp(spread.delay_log_sd * float(zr)))
             for r, zr in zip(regions, z)}
    return {name: delay[m.region] for name, m in scenario.muscles.items()}


# ---------------------------------------------------------------------------------
# Running a cohort
# ---------------------------------------------------------------------------------


def first_age_below(series: list[float], threshold: float) -> float:
    """First age (index) at which ``series`` falls below ``threshold``; NaN if never."""
    return next((float(age) for age, value in enumerate(series) if value < threshold), math.nan)


def clinical_days(scenario: Scenario, muscle_forces: dict[str, list[float]]) -> tuple[float, float]:
    """(onset_day, end_stage_day) from each muscle's absolute force ``F_m`` at ages 0..D.

    Hindlimb force is the summed force of the ``region = "hindlimb"`` muscles over its
    day-0 value; the diaphragm is the muscle named ``diaphragm``.
    """
    clinical = scenario.clinical
    hind = [name for name, m in scenario.muscles.items() if m.region == "hindlimb"]
    n_ages = len(next(iter(muscle_forces.values())))
    onset = end_hind = end_diaphragm = math.nan
    if hind:
        totals = [sum(muscle_forces[name][age] for name in hind) for age in range(n_ages)]
        hindlimb = [total / totals[0] for total in totals]
        onset = first_age_below(hindlimb, clinical.onset_force_fraction)
        end_hind = first_age_below(hindlimb, clinical.end_stage_hindlimb_force_fraction)
    if "diaphragm" in muscle_forces:
        diaphragm = [force / muscle_forces["diaphragm"][0] for force in muscle_forces["diaphragm"]]
        end_diaphragm = first_age_below(diaphragm, clinical.end_stage_diaphragm_force_fraction)
    return onset, min((d for d in (end_hind, end_diaphragm) if not math.isnan(d)), default=math.nan)


def subject_streams(seed: int, subjects: int, litters: int) -> tuple[list[np.random.Generator], list[np.random.Generator]]:
    """One generator per subject and one per litter, spawned from ``SeedSequence(seed)``."""
    subject_root, litter_root = np.random.SeedSequence(seed).spawn(2)
    return [np.random.default_rng(s) for s in subject_root.spawn(subjects)], [np.random.default_rng(s) for s in litter_root.spawn(litters)]


def simulate_reference(scenario: Scenario, *, subjects: int, days: int, seed: int) -> dict[str, np.ndarray]:
    """Simulate ``subjects`` animals from birth for ``days`` days with the reference stepper.

    Returns the *Readouts* of docs/model.md at ages 0..days, each of shape
    (subjects, n_muscles, days + 1) in the order of ``scenario.muscles``, unmasked; plus
    ``onset_day`` and ``end_stage_day`` (days, NaN if not reached), ``sex_is_female`` and
    ``burden_multiplier`` (``b``), each of shape (subjects,). The per-unit snapshots of the
    engines' census: ``snapshot_day`` (every 7th day of age and the last), ``unit_size``
    (subjects, snapshots, units; ``n_u`` at the start of the day, uint16) and
    ``unit_axon_intact`` (same shape, bool), units muscle by muscle, S, FR, FF.
    """
    n_muscles = len(scenario.muscles)
    out = {name: np.full((subjects, n_muscles, days + 1), np.nan) for name in MUSCLE_READOUTS}
    out.update(onset_day=np.full(subjects, np.nan), end_stage_day=np.full(subjects, np.nan),
               sex_is_female=np.zeros(subjects, dtype=bool), burden_multiplier=np.zeros(subjects))
    every = SNAPSHOT_EVERY_DAYS_HUMAN if scenario.species == "human" else SNAPSHOT_EVERY_DAYS
    snapshots = sorted(set(range(0, days + 1, every)) | {days})
    n_units = sum(m.n_motor_units for m in scenario.muscles.values())
    out.update(snapshot_day=np.array(snapshots, dtype=np.int64),
               unit_size=np.zeros((subjects, len(snapshots), n_units), dtype=np.uint16),
               unit_axon_intact=np.zeros((subjects, len(snapshots), n_units), dtype=bool))
    litter_size = scenario.variability.litter_size
    subject_rngs, litter_rngs = subject_streams(seed, subjects, -(-subjects // litter_size))
    z_litters = [float(rng.standard_normal()) for rng in litter_rngs]
    for i, rng in enumerate(subject_rngs):
        subject = ReferenceSubject(scenario, rng, z_litters[i // litter_size], spread_delays(scenario, seed, i))
        forces = {m.name: [] for m in subject.muscles}
        for age in range(days + 1):
            for j, muscle in enumerate(subject.muscles):
                values = muscle.readouts(scenario)
                forces[muscle.name].append(values.pop("force"))
                for name, value in values.items():
                    out[name][i, j, age] = value
            if age in snapshots:
                units = [unit for muscle in subject.muscles for unit in muscle.units]
                out["unit_size"][i, snapshots.index(age)] = [min(unit.size, 65535) for unit in units]
                out["unit_axon_intact"][i, snapshots.index(age)] = [unit.axon_intact for unit in units]
            if age < days:
                subject.step(age)
        for j, muscle in enumerate(subject.muscles):
            out["force_fraction"][i, j] = np.asarray(forces[muscle.name]) / forces[muscle.name][0]
        out["onset_day"][i], out["end_stage_day"][i] = clinical_days(scenario, forces)
        out["sex_is_female"][i] = subject.is_female
        out["burden_multiplier"][i] = subject.burden_multiplier
    return out
