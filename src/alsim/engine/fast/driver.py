"""Running a block of subjects through the compiled kernel and collecting their census."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...biology.species import species_of
from ...biology.spread import muscle_delays, regional_burden, subject_spread
from ...biology.subject_rules import disease_burden, early_burden
from ..census import (CENSUS_FIELDS, SNAPSHOT_SIZE_DTYPE, TYPED_CENSUS_FIELDS, Census, snapshot_days, snapshot_interval,
                      snapshot_slots)
from ..context import RunContext
from ..streams import subject_traits
from .chance import kernel_stream
from .kernel import simulate_subject
from .params import build_params, factor_tables
from .state import initial_subject_state


def burden_by_day(ctx: RunContext, b: float, days: int, delays: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days, M) D(t - delay_m) of each muscle, (days, M) its early terminal burden D_e(t - delay_m)
    (:func:`early_burden_by_day`) and (days,) the cortex's D(t), for t = 0 .. days-1 (docs/model.md,
    *Disease burden* and *Structural alternatives*; docs/human.md, *Spread*): the kernel's burden arguments."""
    d = ctx.scenario.disease
    early = early_burden_by_day(ctx, b, days, delays)
    cortex = disease_burden.py_func(b, np.arange(days, dtype=np.float64), d.burden_scale_days, d.burden_exponent)
    if not delays.any():
        return np.ascontiguousarray(np.repeat(cortex[:, None], len(delays), axis=1)), early, cortex
    return regional_burden(b, np.arange(days, dtype=np.float64), delays, ctx.scenario), early, cortex


def early_burden_by_day(ctx: RunContext, b: float, days: int, delays: np.ndarray) -> np.ndarray:
    """(days, M) the early terminal burden D_e(t - delay_m) of each muscle, t = 0 .. days-1: zeros
    unless ``structure.clock = two_phase`` (docs/model.md, *Structural alternatives*)."""
    structure = ctx.scenario.structure
    if structure.clock != "two_phase":
        return np.zeros((days, len(delays)))
    shifted = np.maximum(np.arange(days, dtype=np.float64)[:, None] - delays[None, :], 0.0)
    return np.ascontiguousarray(early_burden.py_func(b, shifted, structure.early_burden_start_day,
                                                     structure.early_burden_time_constant_days,
                                                     structure.early_burden_amplitude))


def soma_vulnerability(ctx: RunContext, generator: np.random.Generator) -> np.ndarray | None:
    """Under ``structure.soma_survival = orphan``, which units die after target loss: each is
    vulnerable with probability ``1 - resilient_fraction``, drawn in unit order from the subject's
    own stream after the kernel's seed words (so the default structure draws nothing more)."""
    structure = ctx.scenario.structure
    if structure.soma_survival != "orphan":
        return None
    return generator.random(ctx.layout.n_units) >= structure.resilient_fraction


#: Relative margin under the human end-stage FVC threshold at which the kernel stops: the
#: readout sums the same terms with BLAS (possibly fused multiply-adds), so the kernel must
#: not stop on a day the readout, a rounding error away, does not call end stage.
HUMAN_STOP_MARGIN = 1e-9


def end_stage_rule(ctx: RunContext) -> np.ndarray:
    """The end stage as the kernel reads it (:func:`alsim.engine.fast.kernel._past_end_stage`):
    one weight per muscle, a threshold, a muscle index (-1: none), its threshold, the kind.

    Mouse (kind 0): weight 1 per hindlimb muscle, the hindlimb threshold and the diaphragm
    (:func:`alsim.readouts.clinical.clinical_endpoints`). Human (kind 1): the normalised FVC
    weights of the respiratory muscles and the end-stage FVC fraction, less
    :data:`HUMAN_STOP_MARGIN` (:func:`alsim.readouts.human.human_clinical`).
    """
    scenario = ctx.scenario
    names = list(ctx.layout.muscle_names)
    if species_of(scenario).end_stage_by_vital_capacity:
        human = scenario.human
        weights = np.zeros(len(names))
        for muscle, weight in human.fvc_muscle_weights.items():
            weights[names.index(muscle)] = weight
        weights /= weights.sum()
        return np.concatenate([weights, [human.end_stage_fvc_fraction * (1.0 - HUMAN_STOP_MARGIN), -1.0, 0.0, 1.0]])
    hindlimb = [1.0 if scenario.muscles[m].region == "hindlimb" else 0.0 for m in names]
    clinical = scenario.clinical
    diaphragm = names.index("diaphragm") if "diaphragm" in names else -1
    return np.array(hindlimb + [clinical.end_stage_hindlimb_force_fraction, float(diaphragm),
                                clinical.end_stage_diaphragm_force_fraction, 0.0])


def simulate_block_numba(ctx: RunContext, seed: int, subjects: np.ndarray, days: int,
                         on_day: Callable[[int], None] | None = None, stop_at_end_stage: bool = False):
    """Simulate ``subjects`` (cohort indices) for ``days`` days; returns a :class:`~alsim.engine.census.Census`.

    ``on_day`` is called with ``days`` (subject-days done) after each subject. With
    ``stop_at_end_stage`` each subject stops on its end-stage day (:func:`end_stage_rule`);
    its later census is NaN (what a trial or a human run reads is unchanged, bit for bit;
    docs/performance.md).
    """
    subjects = np.asarray(subjects, dtype=np.int64)
    generators, female, litter, burden = subject_traits(ctx.scenario, seed, subjects)
    params = build_params(ctx)
    muscle_factors, cortex_factors = factor_tables(ctx, days)
    n_m = ctx.layout.n_muscles
    census = np.zeros((len(subjects), days + 1, len(CENSUS_FIELDS), n_m))
    typed = np.zeros((len(subjects), days + 1, len(TYPED_CENSUS_FIELDS), n_m, 3))
    every = snapshot_interval(ctx.scenario)
    snap_day, slot = snapshot_days(days, every), snapshot_slots(days, every)
    unit_size = np.zeros((len(subjects), len(snap_day), ctx.layout.n_units), dtype=SNAPSHOT_SIZE_DTYPE)
    unit_axon = np.zeros((len(subjects), len(snap_day), ctx.layout.n_units), dtype=np.bool_)
    end_stage = end_stage_rule(ctx) if stop_at_end_stage else np.zeros(0)
    for i, g in enumerate(generators):
        stream = kernel_stream(g)
        state = initial_subject_state(ctx, params, days, soma_vulnerability(ctx, g))
        delays = muscle_delays(ctx.scenario, subject_spread(ctx.scenario, seed, int(subjects[i])))
        simulate_subject(stream, params, state, *burden_by_day(ctx, burden[i], days, delays), muscle_factors, cortex_factors,
                         census[i], typed[i], slot, unit_size[i], unit_axon[i], end_stage)
        if on_day is not None:
            on_day(days)
    counts = {name: np.ascontiguousarray(np.moveaxis(census[:, :, k], 1, -1)) for k, name in enumerate(CENSUS_FIELDS)}
    counts.update({name: np.ascontiguousarray(np.moveaxis(typed[:, :, k], 1, -1))
                   for k, name in enumerate(TYPED_CENSUS_FIELDS)})
    return Census(subject=subjects, is_female=female, litter=litter, burden_multiplier=burden, counts=counts,
                  snapshot_day=snap_day, unit_size=unit_size, unit_axon_intact=unit_axon)
