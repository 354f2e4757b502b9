"""The model's large-size limit: a deterministic day map of expected endplate counts (mean field).

DESIGN.md asks that the engine's mean agree with the mean-field equations at large
sizes. This module writes those equations for the part of docs/model.md that has a
deterministic limit, so that the engines can be checked where the reference stepper is
far too slow to go (hundreds of fibres a motor unit, as in a real muscle):

- **what is in**: unit rules 3 and 4 (stress, transport), endplate rules 1 (retraction,
  expansion), 2 (sprouting, donors by weight, capacity), 3 (terminal Schwann cells) and
  5 (cross-section, fibre-type conversion), the muscle's expression programme ``S_m``,
  treatments on those rates, the force census, and the structural alternatives ``clock =
  two_phase`` and ``sprouting = stress_limited`` (both deterministic in the unit state);
- **what must be off**: every motor-unit death (soma and axon hazards 0) and endplate
  disassembly (``rates.endplate_disassembly = 0``), and under ``soma_survival = orphan``
  ``structure.orphan_death = 0``. A unit's death is one random event
  however many fibres it has, so it never becomes deterministic, and the disassembly
  hazard depends on each endplate's own AChR history, a distribution, not a count.
  :func:`mean_field_census` refuses a scenario where they are on.

With those off, every hazard of an endplate depends only on its class: owner unit,
coverage, Schwann cell state and fibre type (or, when denervated, muscle, Schwann cell
state and fibre type), and on unit quantities (``M_u``, ``T_u``, ``n_u``, ``S_m``) that
are averages over thousands of endplates. As the fibres a unit grow (``n_fibres`` times
``k``, units unchanged), each class's count divided by ``k`` follows, by the law of
large numbers, the map below: per day, every class splits by the probabilities of
docs/model.md (*Time*: ``1 - exp(-h)``, competing events by their share), evaluated on
the start-of-day expected counts; the cross-section sums move with the counts (no
event reads ``csa``). Sprout requests go to donors in proportion to their weights, and a
donor takes ``min(requests, cap_v)``: the limit of a binomial number of requests against
a capacity, both growing with ``k``. The map is discrete in time like the model, so it is
compared with the engines day for day, not with a differential equation that the daily
probabilities only approximate.

It imports nothing from the engines, the production rules (``alsim.biology``) or the
reference stepper: the few rules it shares with them (unit types, baseline sizes,
hypothesis weights, the burden, treatment factors) are transcribed again below from
docs/model.md, so that a slip in one transcription cannot hide in the other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..config.schema import Scenario

TYPES = ("S", "FR", "FF")
QUIESCENT, REACTIVE, LOST = 0, 1, 2
PARTIAL, FULL = 0, 1
"""Index of coverage 1 and 2 along the coverage axis of the innervated classes."""
CENSUS = ("endplates_intact", "endplates_covered", "endplates_full", "functional_size_sum", "force", "fibre_csa_sum")
"""The census fields the map computes, with the engines' names and meaning (per muscle, start of day)."""

LIMIT_SETTINGS = ("rates.soma_stress_death=0", "rates.soma_excitotoxic_death=0", "rates.soma_starvation_death=0",
                  "rates.soma_ageing_death=0", "rates.axon_dieback=0", "rates.endplate_disassembly=0",
                  "variability.copy_number_log_sd=0", "variability.litter_log_sd=0", "variability.male_burden_ratio=1")
"""``--set`` overrides that put a preset in the map's domain: no unit deaths, no disassembly,
and every subject with the preset's burden multiplier (no copy-number, litter or sex effect)."""

_MUSCLE_TARGETS = ("retraction", "destabilisation", "sprouting", "tsc_loss", "stress_production", "transport_decline")


# ---------------------------------------------------------------- docs/model.md, transcribed for the map


def unit_types_of(muscle) -> list[str]:
    """*Structure*: the first ``round(fraction_S n)`` units are S, the next ``round(fraction_FR n)`` FR, the rest FF."""
    n = muscle.n_motor_units
    n_s = min(n, round(muscle.fraction_S * n))
    n_fr = min(n - n_s, round(muscle.fraction_FR * n))
    return ["S"] * n_s + ["FR"] * n_fr + ["FF"] * (n - n_s - n_fr)


def largest_remainder_sizes(n_fibres: int, weights: list[float]) -> list[int]:
    """*Structure*: ``n_fibres`` endplates shared in proportion to ``weights`` by largest remainder
    (ties to the lower index); a unit left empty takes one endplate from the largest unit."""
    w = np.asarray(weights, dtype=float)
    quota = n_fibres * w / w.sum()
    sizes = np.floor(quota).astype(int)
    ranked = sorted(range(len(w)), key=lambda u: (-(quota[u] - sizes[u]), u))
    sizes[ranked[:n_fibres - int(sizes.sum())]] += 1
    for u in np.flatnonzero(sizes == 0):
        sizes[int(np.argmax(sizes))] -= 1
        sizes[u] = 1
    return [int(x) for x in sizes]


def hypothesis_weights(scenario: Scenario) -> tuple[float, float]:
    """*Hypotheses*: ``(w_back, w_forward)``."""
    h = scenario.hypothesis
    return {"dying_back": (1.0, 0.0), "dying_forward": (0.0, 1.0)}.get(
        h.name, (h.independent_back_weight, 1.0 - h.independent_back_weight))


def disease_burden(b: float, age_days: float, scenario: Scenario) -> float:
    """*Disease burden*: ``D(t) = b (t / burden_scale_days) ** burden_exponent``."""
    return b * (age_days / scenario.disease.burden_scale_days) ** scenario.disease.burden_exponent


def early_burden(b: float, age_days: float, scenario: Scenario) -> float:
    """*Structural alternatives*, ``clock = two_phase``: ``D_e(t) = b A_e (1 - exp(-(t - t_e) / tau_e))``
    for ``t > t_e`` (else 0); 0 under the power clock. Deterministic, so it is in the map."""
    st = scenario.structure
    if st.clock != "two_phase":
        return 0.0
    return b * st.early_burden_amplitude * -math.expm1(-max(age_days - st.early_burden_start_day, 0.0)
                                                      / st.early_burden_time_constant_days)


def treatment_factor(scenario: Scenario, target: str, muscle: str | None, age: float) -> float:
    """*Treatments*: the product of ``1 + (f_full - 1) dose ramp(t)`` over the treatments that reach
    ``target`` in ``muscle`` (``None``: the cortex)."""
    factor = 1.0
    for applied in scenario.treatments:
        t = applied.treatment
        if target in t.effects and (muscle is None or t.reach == "systemic" or muscle in t.muscles):
            factor *= 1.0 + (t.effects[target] - 1.0) * applied.dose * _ramp(applied, age)
    return factor


def _ramp(applied, age: float) -> float:
    t, start, end = applied.treatment, applied.start_day, applied.end_day
    if age < start:
        return 0.0
    built_until = age if end is None or age < end else end
    built = 1.0 if t.onset_days == 0 else -math.expm1(-(built_until - start) / t.onset_days)
    if end is None or age < end:
        return built
    return 0.0 if t.offset_days == 0 else built * math.exp(-(age - end) / t.offset_days)


def mean_field_blockers(scenario: Scenario) -> list[str]:
    """The settings of ``scenario`` that have no deterministic limit (empty: the map applies)."""
    rates, structure = scenario.rates, scenario.structure
    _, w_forward = hypothesis_weights(scenario)
    # under soma_survival = orphan the starvation rate is not read; the orphan hazard is a unit death instead
    orphan = structure.soma_survival == "orphan"
    blockers = [f"rates.{name} = {getattr(rates, name):g}" for name in
                ("soma_starvation_death", "soma_ageing_death", "axon_dieback", "endplate_disassembly")
                if getattr(rates, name) > 0.0 and not (orphan and name == "soma_starvation_death")]
    if orphan and structure.orphan_death > 0.0:
        blockers.append(f"structure.orphan_death = {structure.orphan_death:g} (soma_survival = orphan: a unit death)")
    if w_forward > 0.0:
        blockers += [f"rates.{name} = {getattr(rates, name):g} (with w_forward = {w_forward:g})"
                     for name in ("soma_stress_death", "soma_excitotoxic_death") if getattr(rates, name) > 0.0]
    return blockers


def limit_scenario(scenario: str, fibre_factor: int = 1, overrides: Sequence[str] = ()) -> Scenario:
    """Preset or TOML ``scenario`` with :data:`LIMIT_SETTINGS`, every muscle's ``n_fibres``
    times ``fibre_factor`` (units unchanged), then ``overrides``: the form in which the
    engines' mean converges to :func:`mean_field_census` as ``fibre_factor`` grows."""
    from ..config.loading import load_scenario

    base, _ = load_scenario(scenario, [])
    scaled = [f"muscles.{name}.n_fibres={muscle.n_fibres * fibre_factor}" for name, muscle in base.muscles.items()]
    return load_scenario(scenario, [*LIMIT_SETTINGS, *scaled, *overrides])[0]


class _Layout:
    """Per-unit constants of one subject, units muscle by muscle (S, FR, FF within a muscle)."""

    def __init__(self, scenario: Scenario) -> None:
        muscle, unit_type, n0 = [], [], []
        for m, params in enumerate(scenario.muscles.values()):
            types = unit_types_of(params)
            weights = [scenario.unit_types[k].innervation_ratio_relative for k in types]
            muscle += [m] * len(types)
            unit_type += [TYPES.index(k) for k in types]
            n0 += largest_remainder_sizes(params.n_fibres, weights)
        muscles = list(scenario.muscles.values())
        kinds = [scenario.unit_types[k] for k in TYPES]
        self.muscle = np.array(muscle)
        self.type = np.array(unit_type)
        self.n0 = np.array(n0, dtype=float)
        self.n_muscles = len(muscles)
        self.nbar0 = np.array([p.n_fibres / p.n_motor_units for p in muscles])[self.muscle]
        self.length = np.array([p.axon_length_mm for p in muscles])[self.muscle] / scenario.rates.reference_axon_length_mm
        self.vulnerability = np.array([kinds[k].vulnerability for k in self.type])
        self.activity = np.array([kinds[k].activity for k in self.type])
        self.competence = np.array([kinds[k].sprouting_competence for k in self.type])
        self.max_size = np.floor(np.array([kinds[k].max_enlargement for k in self.type]) * self.n0)
        self.fibre_force = np.array([k.fibre_specific_force for k in kinds])

    def by_muscle(self, per_unit: np.ndarray) -> np.ndarray:
        """Sum a per-unit quantity (leading axis) over each muscle's units."""
        out = np.zeros((self.n_muscles, *per_unit.shape[1:]))
        np.add.at(out, self.muscle, per_unit)
        return out


def _competing(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities within a day of two competing events (docs/model.md, *Time*)."""
    total = first + second
    p_any = -np.expm1(-total)
    share = np.divide(first, total, out=np.zeros_like(total), where=total > 0.0)
    return p_any * share, p_any * (1.0 - share) * (total > 0.0)


def _move(counts: np.ndarray, csa: np.ndarray, probability: np.ndarray, source, target) -> None:
    """Move the expected share ``probability`` of classes ``source`` to ``target`` (index
    tuples into the class arrays), their cross-section sums with them."""
    moved, moved_csa = counts[source] * probability, csa[source] * probability
    counts[source] -= moved
    csa[source] -= moved_csa
    counts[target] += moved
    csa[target] += moved_csa


class _Subject:
    """Expected counts of one subject. ``inner[u, c, t, f]``: endplates owned by unit ``u``
    at coverage index ``c`` (:data:`PARTIAL`, :data:`FULL`) with Schwann cell ``t`` and fibre
    type ``f``; ``denervated[m, t, f]``; ``*_csa`` their summed cross-sections."""

    def __init__(self, scenario: Scenario, layout: _Layout) -> None:
        units = len(layout.n0)
        self.inner = np.zeros((units, 2, 3, 3))
        self.inner[np.arange(units), FULL, QUIESCENT, layout.type] = layout.n0
        self.inner_csa = self.inner.copy()
        self.denervated = np.zeros((layout.n_muscles, 3, 3))
        self.denervated_csa = np.zeros_like(self.denervated)
        self.stress = np.zeros(units)
        self.transport = np.ones(units)
        self.expression = np.zeros(layout.n_muscles)

    def census(self, scenario: Scenario, layout: _Layout) -> dict[str, np.ndarray]:
        """The start-of-day census per muscle (:data:`CENSUS`)."""
        transmission = np.array([scenario.neuromuscular.partial_transmission, 1.0])
        size = self.inner.sum(axis=(1, 2, 3))
        covered = layout.by_muscle(self.inner.sum(axis=(2, 3)))
        force = (self.inner_csa * transmission[None, :, None, None] * layout.fibre_force[None, None, None, :]).sum(axis=(1, 2, 3))
        return {"endplates_intact": covered.sum(axis=1) + self.denervated.sum(axis=(1, 2)),
                "endplates_covered": covered.sum(axis=1), "endplates_full": covered[:, FULL],
                "functional_size_sum": layout.by_muscle(np.where(size >= 1.0, size, 0.0)),
                "force": layout.by_muscle(force),
                "fibre_csa_sum": layout.by_muscle(self.inner_csa.sum(axis=(1, 2, 3))) + self.denervated_csa.sum(axis=(1, 2))}

    def step(self, scenario: Scenario, layout: _Layout, burden: np.ndarray, factors: dict[str, np.ndarray],
             early: np.ndarray | None = None) -> None:
        """One day of docs/model.md on the expected counts, every rate from the start-of-day state.

        ``burden`` (M,) is each muscle's ``D(t - delay_m)``; ``factors[target]`` (M,) the
        day's treatment factors; ``early`` (M,) the early terminal burden ``D_e`` (``clock =
        two_phase``; None: 0).
        """
        early = np.zeros_like(burden) if early is None else early
        rates, tsc = scenario.rates, scenario.terminal_schwann_cells
        w_back, _ = hypothesis_weights(scenario)
        um = layout.muscle
        size = self.inner.sum(axis=(1, 2, 3))
        delta = self.denervated.sum(axis=(1, 2)) / (layout.by_muscle(size) + self.denervated.sum(axis=(1, 2)))
        # what the endplates see today (endplate rules 1 and 2), from the start-of-day unit state
        destabilised = 1.0 + scenario.muscle_feedback.destabilising_gain * self.expression * factors["destabilisation"]
        size_term = (size / layout.nbar0) ** rates.stress_size_exponent
        # *Structural alternatives*, two_phase: terminals see M_u + tau P_e, P_e rule 3's production from D_e
        early_production = early[um] * layout.vulnerability * layout.activity * size_term * factors["stress_production"][um]
        terminal_stress = self.stress + early_production * rates.stress_time_constant_days
        h_retract = (w_back * rates.terminal_retraction_per_stress * terminal_stress * destabilised[um]
                     + rates.terminal_retraction_baseline) * factors["retraction"][um]
        h_expand = rates.terminal_expansion * self.transport
        room = np.maximum(0.0, layout.max_size - size)
        weight = np.where(size >= 1.0, layout.competence * self.transport * room, 0.0)
        if scenario.structure.sprouting == "stress_limited":   # *Structural alternatives*
            weight = weight * np.exp(-self.stress / scenario.structure.sprouting_stress_scale)
        guidance = np.array([tsc.guidance_quiescent, 1.0, tsc.guidance_lost])
        h_sprout = (rates.sprouting * guidance[None, :] * (1.0 + scenario.muscle_feedback.sprouting_signal_gain
                                                            * self.expression[:, None]) * factors["sprouting"][:, None])
        h_loss = tsc.loss_per_burden * (burden + early) * factors["tsc_loss"]
        self._relax_cross_sections(rates)
        granted = self._denervated_day(layout, weight, room, h_sprout, h_loss, tsc)
        self._innervated_day(layout, h_retract, h_expand, rates, tsc)
        self.inner += granted[0]
        self.inner_csa += granted[1]
        self._units_day(scenario, layout, burden, size, factors)
        decay = math.exp(-1.0 / scenario.muscle_feedback.expression_time_constant_days)
        self.expression = delta + (self.expression - delta) * decay

    def _relax_cross_sections(self, rates) -> None:
        """Endplate rule 5 on the sums: innervated fibres regrow towards 1, denervated ones atrophy to the floor."""
        regrow, atrophy, floor = math.exp(-rates.fibre_regrowth), math.exp(-rates.fibre_atrophy), rates.fibre_csa_floor
        self.inner_csa = self.inner + (self.inner_csa - self.inner) * regrow
        self.denervated_csa = floor * self.denervated + (self.denervated_csa - floor * self.denervated) * atrophy

    def _denervated_day(self, layout, weight, room, h_sprout, h_loss, tsc):
        """Endplate rules 2 and 3 of denervated endplates; returns the granted sprouts as
        (counts, cross-sections) in the shape of ``inner``, Schwann cells of the end of the day."""
        p_sprout = -np.expm1(-h_sprout)                                          # (M, t)
        requested = self.denervated * p_sprout[:, :, None]
        requested_csa = self.denervated_csa * p_sprout[:, :, None]
        # donors: requests in proportion to weight, at most cap_v taken
        total_weight = layout.by_muscle(weight)
        share = np.divide(weight, total_weight[layout.muscle], out=np.zeros_like(weight),
                          where=total_weight[layout.muscle] > 0.0)
        asked = requested.sum(axis=(1, 2))[layout.muscle] * share
        accepted = np.divide(np.minimum(asked, room), asked, out=np.zeros_like(asked), where=asked > 0.0)
        to_unit = share * accepted                                               # fraction of a muscle's requests
        granted = to_unit[:, None, None] * requested[layout.muscle]              # (u, t, f), start-of-day t
        granted_csa = to_unit[:, None, None] * requested_csa[layout.muscle]
        taken = layout.by_muscle(to_unit)                                        # (M,) fraction of requests granted
        self.denervated -= requested * taken[:, None, None]
        self.denervated_csa -= requested_csa * taken[:, None, None]
        # rule 3 at coverage 0 for everyone, the granted included (their cells follow the same start-of-day rule)
        inner = np.zeros((len(weight), 2, 3, 3))
        inner_csa = np.zeros_like(inner)
        inner[:, PARTIAL], inner_csa[:, PARTIAL] = granted, granted_csa
        activate, lose_quiescent = _competing(np.full_like(h_loss, tsc.activation), h_loss)
        lose_reactive = -np.expm1(-h_loss)
        for counts, csa, p_activate, p_lose_q, p_lose_r in (
                (self.denervated, self.denervated_csa, activate, lose_quiescent, lose_reactive),
                (inner[:, PARTIAL], inner_csa[:, PARTIAL], activate[layout.muscle], lose_quiescent[layout.muscle],
                 lose_reactive[layout.muscle])):
            q, r = counts[:, QUIESCENT].copy(), counts[:, REACTIVE].copy()
            q_csa, r_csa = csa[:, QUIESCENT].copy(), csa[:, REACTIVE].copy()
            counts[:, REACTIVE] += q * p_activate[:, None] - r * p_lose_r[:, None]
            csa[:, REACTIVE] += q_csa * p_activate[:, None] - r_csa * p_lose_r[:, None]
            counts[:, LOST] += q * p_lose_q[:, None] + r * p_lose_r[:, None]
            csa[:, LOST] += q_csa * p_lose_q[:, None] + r_csa * p_lose_r[:, None]
            counts[:, QUIESCENT] -= q * (p_activate + p_lose_q)[:, None]
            csa[:, QUIESCENT] -= q_csa * (p_activate + p_lose_q)[:, None]
        return inner, inner_csa

    def _innervated_day(self, layout, h_retract, h_expand, rates, tsc) -> None:
        """Endplate rules 3, 5 (conversion) and 1 of innervated endplates: independent events
        of the day, applied one after the other to the coordinate each changes."""
        inner, csa = self.inner, self.inner_csa
        units = np.arange(len(h_retract))
        # rule 3: quiescent -> reactive at coverage 1, reactive -> quiescent at coverage 2
        _move(inner, csa, -math.expm1(-tsc.activation), (slice(None), PARTIAL, QUIESCENT), (slice(None), PARTIAL, REACTIVE))
        _move(inner, csa, -math.expm1(-tsc.quiescence), (slice(None), FULL, REACTIVE), (slice(None), FULL, QUIESCENT))
        # rule 5: a fibre of another type converts to its owner's type
        p_convert = -math.expm1(-rates.fibre_type_conversion)
        for f in range(3):
            source = units[layout.type != f]
            _move(inner, csa, p_convert, (source, slice(None), slice(None), f),
                  (source, slice(None), slice(None), layout.type[source]))
        # rule 1: full terminals retract to partial; partial ones retract (to the denervated) or expand
        p_retract_full = -np.expm1(-h_retract)[:, None, None]
        p_retract_partial, p_expand = (p[:, None, None] for p in _competing(h_retract, h_expand))
        full, full_csa = inner[:, FULL].copy(), csa[:, FULL].copy()
        partial, partial_csa = inner[:, PARTIAL].copy(), csa[:, PARTIAL].copy()
        inner[:, FULL] += partial * p_expand - full * p_retract_full
        csa[:, FULL] += partial_csa * p_expand - full_csa * p_retract_full
        inner[:, PARTIAL] += full * p_retract_full - partial * (p_expand + p_retract_partial)
        csa[:, PARTIAL] += full_csa * p_retract_full - partial_csa * (p_expand + p_retract_partial)
        self.denervated += layout.by_muscle(partial * p_retract_partial)
        self.denervated_csa += layout.by_muscle(partial_csa * p_retract_partial)

    def _units_day(self, scenario, layout, burden, size, factors) -> None:
        """Unit rules 3 and 4 (stress and transport), exact over one day."""
        rates, um = scenario.rates, layout.muscle
        tau = rates.stress_time_constant_days
        production = (burden[um] * layout.vulnerability * layout.activity
                      * (size / layout.nbar0) ** rates.stress_size_exponent * factors["stress_production"][um])
        k = rates.transport_decline_per_stress * layout.length * self.stress * factors["transport_decline"][um]
        r = rates.transport_recovery
        equilibrium = np.divide(r, k + r, out=self.transport.copy(), where=(k + r) > 0.0)
        self.transport = equilibrium + (self.transport - equilibrium) * np.exp(-(k + r))
        decay = math.exp(-1.0 / tau)
        self.stress = self.stress * decay + production * tau * (1.0 - decay)


def mean_field_census(scenario: Scenario, *, burden_multiplier: float, days: int,
                      delays: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The large-size limit of one subject's census: each field of :data:`CENSUS` as
    (muscles, days + 1), at ages 0..days, in expected endplates (or summed force and
    cross-section) of the scenario's own fibre counts, so directly comparable with an
    engine's census of the same scenario.

    ``burden_multiplier`` is the subject's ``b``; ``delays`` (days, per muscle, default none)
    its spread delays (docs/human.md, *Spread*). Raises ``ValueError`` naming the settings
    that have no deterministic limit (:func:`mean_field_blockers`).
    """
    blockers = mean_field_blockers(scenario)
    if blockers:
        raise ValueError("the mean field needs unit deaths and endplate disassembly off; set to 0: " + ", ".join(blockers))
    layout = _Layout(scenario)
    delays = np.zeros(layout.n_muscles) if delays is None else np.asarray(delays, dtype=float)
    names = list(scenario.muscles)
    subject = _Subject(scenario, layout)
    out = {name: np.zeros((layout.n_muscles, days + 1)) for name in CENSUS}
    for age in range(days + 1):
        for name, value in subject.census(scenario, layout).items():
            out[name][:, age] = value
        if age == days:
            break
        burden = np.array([disease_burden(burden_multiplier, max(age - d, 0.0), scenario) for d in delays])
        early = np.array([early_burden(burden_multiplier, max(age - d, 0.0), scenario) for d in delays])
        factors = {target: np.array([treatment_factor(scenario, target, m, age) for m in names]) for target in _MUSCLE_TARGETS}
        subject.step(scenario, layout, burden, factors, early)
    return out


FRACTIONS = ("endplates_covered", "endplates_full", "force")
"""The readouts compared with the engines: innervated and fully innervated shares, force."""


def census_fraction(counts: dict[str, np.ndarray], field: str) -> np.ndarray:
    """A census (an engine's or the map's) as a fraction: ``endplates_covered`` or
    ``endplates_full`` over the intact endplates, or ``force`` relative to day 0."""
    if field == "force":
        return counts["force"] / counts["force"][..., :1]
    return counts[field] / counts["endplates_intact"]


def compare_with_mean_field(scenario: Scenario, counts: dict[str, np.ndarray],
                            limit: dict[str, np.ndarray]) -> tuple[float, float]:
    """How far a cohort's mean (``counts``: an engine's census, subjects first) is from the
    mean field ``limit`` of the same scenario, over :data:`FRACTIONS`, muscles and days:
    the largest absolute difference, and the largest difference in units of the tolerance
    ``5 standard errors of the cohort mean + 1 / nbar`` (``nbar`` the muscle's mean unit
    size: the O(1/n) finite-size bias; docs/verification.md)."""
    subjects = counts["force"].shape[0]
    nbar = np.array([m.n_fibres / m.n_motor_units for m in scenario.muscles.values()])[:, None]
    largest, ratio = 0.0, 0.0
    for field in FRACTIONS:
        engine = census_fraction(counts, field)
        difference = np.abs(engine.mean(axis=0) - census_fraction(limit, field))
        tolerance = 5.0 * engine.std(axis=0, ddof=1) / np.sqrt(subjects) + 1.0 / nbar
        largest = max(largest, float(difference.max()))
        ratio = max(ratio, float((difference / tolerance).max()))
    return largest, ratio
