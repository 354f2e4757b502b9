"""The compiled day loop of one subject: census, then one step of docs/model.md, for every day.

Order within day ``t`` (all rates from the start-of-day state, docs/model.md *Time*):

1. census of the units, the groups and the dead fibres (start of day);
2. unit rules (deaths decided, not yet applied; stress and transport advanced);
3. the groups' events (binomial counts, members picked uniformly), to the active list;
4. the active endplates: census, then rules 1-6;
5. sprouts granted; unit deaths applied (an axon's groups become active);
6. grouped, dead and orphan fibres, muscle expression and upper motor neurons relax;
7. innervated active endplates with an intact owner axon join their group, disassembled
   ones the dead, denervated ones with a lost Schwann cell the orphans.
"""

from __future__ import annotations

from numba import njit

import numpy as np

from ...biology.endplate_rules import decay_factor, relax_towards
from ...biology.subject_rules import cortical_drive, umn_survival
from .endplates import (ENDPLATES_COVERED, ENDPLATES_INTACT, FORCE, active_pass, census_active_all, census_units_and_pools,
                        grant_sprouts, sort_active)
from .day_tables import muscle_table, schwann_table, terminal_table
from .params import F_CORTICAL_DRIVE, F_UMN_LOSS
from .groups import group_events
from .units import apply_unit_deaths, retraction_by_muscle, unit_phase


@njit(cache=True, error_model="numpy")
def _relax_subject(p, s, cen, day, burden, cortex):
    """Grouped fibres regrow, dead and orphan fibres atrophy, orphans due today are disassembled,
    S_m follows the denervated fraction, UMNs are lost."""
    regrow, atrophy = decay_factor(p.fibre_regrowth), decay_factor(p.fibre_atrophy)
    excess = s.group_excess.ravel()
    for i in range(excess.shape[0]):
        excess[i] *= regrow
    expression_decay = decay_factor(1.0 / p.feedback_expression_time_constant_days)
    for m in range(s.expression.shape[0]):
        s.floor_excess[m] *= atrophy
        due = s.disassembly_due[day, m]
        s.orphan_n[m] -= due
        s.dead_n[m] += due
        intact = cen[ENDPLATES_INTACT, m]
        delta = (intact - cen[ENDPLATES_COVERED, m]) / intact if intact > 0 else 0.0
        s.expression[m] = relax_towards(s.expression[m], delta, expression_decay)
    s.umn[0] *= umn_survival(p.w_forward, p.umn_loss_per_burden_day, burden, cortex[F_UMN_LOSS])


@njit(cache=True, error_model="numpy")
def step_day(rng, p, s, day, burden, early, cortex_burden, all_muscle_factors, cortex_factors, cen):
    """Advance subject state ``s`` over day ``day``, adding the active endplates to ``cen``.

    ``burden`` (M,) is each muscle's D(t - delay_m), ``early`` (M,) its early terminal burden
    D_e (0 unless ``clock = two_phase``), ``cortex_burden`` the cortex's D(t).
    ``all_muscle_factors`` is the whole run's table (days, targets, M): orphans look ahead in it.
    """
    muscle_factors = all_muscle_factors[day]
    drive = cortical_drive(s.umn[0], p.umn_hyperexcitability_gain, cortex_burden, cortex_factors[F_CORTICAL_DRIVE])
    n_muscles = s.expression.shape[0]
    retraction = np.empty((3, n_muscles))
    retraction_by_muscle(p, s, muscle_factors, retraction)
    unit_phase(rng, p, s, burden, early, drive, muscle_factors)
    terminal = np.empty((1, p.unit_muscle.shape[0]))
    terminal_table(p, s, retraction, terminal)
    schwann = np.empty((2, n_muscles, 3, 3))
    schwann_table(p, burden, early, muscle_factors, schwann)
    muscle = np.empty((4, n_muscles))
    muscle_table(p, s, muscle_factors, muscle)
    n_old = s.n_active[0]
    group_events(rng, p, s, day, terminal)
    n_requests = active_pass(rng, p, s, n_old, muscle_factors, terminal, schwann, muscle, cen)
    grant_sprouts(rng, p, s, n_requests)
    apply_unit_deaths(rng, p, s, day)
    _relax_subject(p, s, cen, day, cortex_burden, cortex_factors)
    sort_active(rng, p, s, day, all_muscle_factors)


@njit(cache=True, error_model="numpy")
def snapshot_units(s, unit_size, unit_axon):
    """Keep every unit's size ``n_u`` (clipped to uint16) and axon state in one snapshot row."""
    size, axon = s.size, s.axon
    for u in range(size.shape[0]):
        unit_size[u] = min(size[u], 65535)
        unit_axon[u] = axon[u]


@njit(cache=True, error_model="numpy")
def _past_end_stage(census, day, end_stage):
    """Whether the census of ``day`` (complete) is at or past the end stage.

    ``end_stage`` (:func:`alsim.engine.fast.driver.end_stage_rule`) holds one weight per
    muscle, then a threshold, a muscle index (-1: none), its threshold and the kind:

    - kind 0, mouse (:func:`alsim.readouts.clinical.clinical_endpoints`): hindlimb force
      (weights 1 on the hindlimb muscles) relative to day 0 below the first threshold, or
      the indexed muscle's (diaphragm) below its threshold; the same operations in the same
      order, so the stop day is that function's ``end_stage_day``;
    - kind 1, human (:func:`alsim.readouts.human.human_clinical`): the weighted mean of the
      muscles' force fractions (FVC) below the threshold, which the driver sets a hair
      under the readout's so that rounding can only make the kernel stop later, never earlier.
    """
    n_m = census.shape[2]
    threshold, index, index_threshold, kind = end_stage[n_m], int(end_stage[n_m + 1]), end_stage[n_m + 2], end_stage[n_m + 3]
    if kind == 1.0:
        fvc = 0.0
        for m in range(n_m):
            if end_stage[m] > 0.0:
                if census[0, FORCE, m] <= 0.0:      # the readout's FVC is NaN: never end stage
                    return False
                fvc += end_stage[m] * (census[day, FORCE, m] / census[0, FORCE, m])
        return fvc < threshold
    total, baseline, any_hindlimb = 0.0, 0.0, False
    for m in range(n_m):
        if end_stage[m] > 0.0:
            total += census[day, FORCE, m]
            baseline += census[0, FORCE, m]
            any_hindlimb = True
    if any_hindlimb and baseline > 0.0 and total / baseline < threshold:
        return True
    if index >= 0 and census[0, FORCE, index] > 0.0:
        return census[day, FORCE, index] / census[0, FORCE, index] < index_threshold
    return False


@njit(cache=True, error_model="numpy", nogil=True)
def simulate_subject(rng, p, s, burden, early, cortex_burden, muscle_factors, cortex_factors, census, typed, slot, unit_size,
                     unit_axon, end_stage):
    """Run one subject for ``census.shape[0] - 1`` days from state ``s``; returns the last day simulated.

    ``burden`` (days, M) is each muscle's D(t - delay_m), ``early`` (days, M) its early terminal
    burden D_e(t - delay_m) (zeros unless ``clock = two_phase``) and ``cortex_burden`` (days,) D(t); the factor tables are (days, targets, M) and (days, 2);
    the census is written day-major to ``census`` (days + 1, fields, M) and ``typed`` (days + 1, 2, M, 3).
    On days with ``slot[day] >= 0`` the start-of-day unit sizes and axon states go to row
    ``slot[day]`` of ``unit_size`` and ``unit_axon`` (snapshots, U).

    With a non-empty ``end_stage`` rule (see :func:`_past_end_stage`) the subject stops on
    its end-stage day: later census rows are NaN and later snapshots stay as they were.
    A trial reads nothing of an animal after its end stage, nor a human run of a person
    after theirs, so this saves the days of simulation that no one looks at.
    """
    days = census.shape[0] - 1
    for day in range(days + 1):
        cen = census[day]
        census_units_and_pools(p, s, cen, typed[day])
        if slot[day] >= 0:
            snapshot_units(s, unit_size[slot[day]], unit_axon[slot[day]])
        if day == days:
            census_active_all(p, s, cen)
            break
        step_day(rng, p, s, day, burden[day], early[day], cortex_burden[day], muscle_factors, cortex_factors[day], cen)
        if end_stage.shape[0] > 0 and _past_end_stage(census, day, end_stage):
            census[day + 1:] = np.nan
            typed[day + 1:] = np.nan
            return day
    return days
