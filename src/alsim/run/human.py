"""The results Dataset of a human scenario: every course counted in days from symptom onset.

A person's course is read the way a clinic reads it: from the day symptoms begin. The
engine simulates the pre-symptomatic years from day 0 (a point chosen before any motor
unit is lost, not birth); each subject's series are then moved onto a common ``day``
coordinate that counts from its own symptom onset (negative before it). Subjects who do
not reach onset within the run keep their events (NaN) but no time courses.
"""

from __future__ import annotations

import numpy as np

from ..biology.motor_units import build_layout
from ..biology.species import species_of
from ..biology.spread import scenario_regions, subject_spread
from ..config.human import ALSFRS_R_ITEMS
from ..config.schema import UNIT_TYPES, Scenario
from ..engine.census import snapshot_interval
from ..engine.census import Census
from ..readouts import READOUTS, TYPED_READOUTS, lab_readouts
from ..readouts.emg.simulated import EMG_READOUTS, recording_setup
from ..readouts.selection import NO_EMG, ReadoutSelection
from ..readouts.human import (DIAGNOSIS_DEFINITION, END_STAGE_DEFINITION_HUMAN, ONSET_DEFINITION_HUMAN,
                              VENTILATION_DEFINITION, align_to_onset, human_clinical, onset_grid)
from .census import simulate_census
from .emg import emg_in_blocks

__all__ = ["DAY_FROM_ONSET", "human_data_vars", "simulate_human_events"]

DAY_FROM_ONSET = "days from the subject's symptom onset (negative before it)"


def _event(values: np.ndarray, onset: np.ndarray) -> np.ndarray:
    """Simulation days of an event -> days from onset (NaN where either is missing)."""
    return values - onset


def _emg_grid(snapshot_day: np.ndarray, onset: np.ndarray, every: int) -> np.ndarray:
    reached = onset[np.isfinite(onset)]
    if reached.size == 0:
        return np.arange(0, dtype=np.int64)
    lo = int(np.floor((snapshot_day[0] - reached.max()) / every))
    hi = int(np.ceil((snapshot_day[-1] - reached.min()) / every))
    return np.arange(lo, hi + 1, dtype=np.int64) * every


def _on_cadence(snapshot_day: np.ndarray, onset: np.ndarray, grid: np.ndarray, cadence: int) -> np.ndarray:
    """(subject, snapshot) bool: the snapshots that :func:`align_to_onset` places on the days of
    ``grid`` that are multiples of ``cadence`` from each subject's onset (none without onset)."""
    index = np.broadcast_to(np.arange(len(snapshot_day), dtype=np.float64), (len(onset), len(snapshot_day)))
    placed = align_to_onset(index, onset, grid, snapshot_day)
    subject, column = np.nonzero(np.isfinite(placed) & (grid % cadence == 0)[None, :])
    out = np.zeros(index.shape, dtype=bool)
    out[subject, placed[subject, column].astype(np.int64)] = True
    return out


def human_data_vars(scenario: Scenario, census: Census, *, seed: int, mune_method: str, readouts: ReadoutSelection,
                    workers: int = 1, scheduler: str | None = None,
                    grid_onset: np.ndarray | None = None) -> tuple[dict, dict, dict]:
    """(data_vars, coords, attrs) of a human run; :func:`alsim.run.dataset.results_dataset` assembles them.

    The ``day`` and ``emg_day`` grids run from the latest to the earliest onset of
    ``grid_onset`` (simulation days; default: this census's subjects), so that a part of a
    cohort can be laid on the whole cohort's grids (:mod:`alsim.run.stream_human`).
    """
    layout = build_layout(scenario)
    muscles = list(layout.muscle_names)
    n_days = census.counts["force"].shape[-1]
    sim_day = np.arange(n_days)
    clinical = human_clinical(scenario, census.counts["force"], muscles)
    onset = clinical["onset_day"]
    grid_onset = onset if grid_onset is None else np.asarray(grid_onset, dtype=np.float64)
    grid = onset_grid(grid_onset, n_days)
    after_end = sim_day[None, :] > np.nan_to_num(clinical["end_stage_day"], nan=np.inf)[:, None]

    def aligned(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        expand = mask.reshape(mask.shape[:1] + (1,) * (values.ndim - 2) + mask.shape[1:])
        return align_to_onset(np.where(expand, np.nan, values), onset, grid, sim_day)

    values = lab_readouts(census, np.diff(layout.unit_start), layout.units_per_type, np.diff(layout.endplate_start))
    data_vars = {}
    for r in READOUTS:
        data_vars[r.name] = (("subject", "muscle", "day"), aligned(values[r.name], after_end),
                             r.attrs)
    for r in TYPED_READOUTS:
        data_vars[r.name] = (("subject", "muscle", "unit_type", "day"), aligned(values[r.name], after_end),
                             r.attrs)
    data_vars["region_function"] = (("subject", "region", "day"), aligned(clinical["region_function"], after_end), {
        "units": "1", "long_name": "region function, fraction of the subject's own day-0 force",
        "description": "Mean force fraction of the region's muscles."})
    data_vars["alsfrs_r"] = (("subject", "day"), aligned(clinical["alsfrs_r"], after_end), {
        "units": "1", "long_name": "ALSFRS-R-like total, points (0-48)", "description": "ALSFRS-R-like total: twelve items scored 0-4 from the force of their muscles."})
    data_vars["alsfrs_r_items"] = (("subject", "item", "day"), aligned(clinical["alsfrs_r_items"], after_end), {
        "units": "1", "long_name": "ALSFRS-R item scores, points (0-4)", "description": "ALSFRS-R items (Cedarbaum et al. 1999 J Neurol Sci 169:13)."})
    data_vars["fvc_fraction"] = (("subject", "day"), aligned(clinical["fvc_fraction"], after_end), {
        "units": "1", "long_name": "forced vital capacity, fraction of predicted", "description": "Forced vital capacity: weighted force fraction of the respiratory muscles."})
    coords = {"subject": census.subject, "muscle": muscles, "day": ("day", grid, {"units": "d", "axis": "T", "long_name": "days from symptom onset",
                                           "description": DAY_FROM_ONSET}),
              "unit_type": list(UNIT_TYPES), "region": clinical["regions"], "item": list(ALSFRS_R_ITEMS)}
    readouts.check_muscles(muscles)
    species = species_of(scenario)
    every = snapshot_interval(scenario)
    cadence = readouts.cadence(species) or every
    attrs = (readouts if census.unit_size is not None else NO_EMG).attrs(muscles, from_onset_every=cadence)
    if readouts.emg and census.unit_size is not None:
        snap = np.asarray(census.snapshot_day)
        emg_grid = _emg_grid(snap, grid_onset, every)
        on_cadence = _on_cadence(snap, onset, emg_grid, cadence)
        on_snapshot = on_cadence.copy()
        on_snapshot[np.isfinite(onset), 0] = True          # the CMAP's reference, dropped below if off cadence
        emg = emg_in_blocks(census, layout, seed=seed, mune_method=mune_method, until_day=clinical["end_stage_day"],
                            setup=recording_setup(species.recording), workers=workers, scheduler=scheduler,
                            selection=readouts, on_snapshot=on_snapshot)
        kept = emg_grid % cadence == 0
        missing = ~on_cadence | (snap[None, :] > np.nan_to_num(clinical["end_stage_day"], nan=np.inf)[:, None])
        for r in EMG_READOUTS:
            v = align_to_onset(np.where(missing[:, None, :], np.nan, emg[r.name]), onset, emg_grid, snap)
            data_vars[r.name] = (("subject", "muscle", "emg_day"), v[..., kept], r.attrs)
        coords["emg_day"] = ("emg_day", emg_grid[kept], {"units": "d", "long_name": "days from symptom onset of the recording", "description": (
            f"days from symptom onset of the recordings: one every {cadence} days from the subject's onset, each "
            f"made on the unit snapshot (every {every} days of the simulation) nearest that day (within {every // 2} days)")})
        attrs["mune_method"] = mune_method
    spreads = [subject_spread(scenario, seed, int(i)) for i in census.subject]
    regions = scenario_regions(scenario)
    events = {
        "onset_sim_day": (onset, "simulation day of onset (day 0: the disease starts in the onset region)",
                          ONSET_DEFINITION_HUMAN),
        "diagnosis_day": (_event(clinical["diagnosis_day"], onset), "diagnosis, days from onset", DIAGNOSIS_DEFINITION),
        "ventilation_day": (_event(clinical["ventilation_day"], onset), "permanent ventilation, days from onset",
                            VENTILATION_DEFINITION),
        "end_stage_day": (_event(clinical["end_stage_day"], onset), "end stage, days from onset", END_STAGE_DEFINITION_HUMAN),
    }
    for name, (v, long_name, description) in events.items():
        data_vars[name] = ("subject", v.astype(np.float64), {"units": "d", "long_name": long_name,
                                                             "description": description})
    data_vars["onset_region"] = ("subject", np.array([s.onset_region for s in spreads], dtype="U16"), {
        "description": "region where the disease burden starts (scenario spread)"})
    data_vars["spread_delay_days"] = (("subject", "region"), np.array([[s.delay_days[r] for r in regions] for s in spreads]), {
        "units": "d", "long_name": "spread delay", "description": "delay after which each region carries the burden (0 in the onset region)"})
    attrs.update({"onset_definition": ONSET_DEFINITION_HUMAN, "end_stage_definition": END_STAGE_DEFINITION_HUMAN,
                  "day_coordinate": DAY_FROM_ONSET,
                  "subjects_without_onset": int(np.sum(~np.isfinite(onset))),
                  "masking": "readouts are NaN after the subject's end stage (death or permanent ventilation)"})
    return data_vars, coords, attrs


def simulate_human_events(scenario: Scenario, *, subjects: int, days: int, seed: int) -> dict[str, np.ndarray]:
    """The clinical events of a cohort of people, without assembling the results Dataset.

    For calibration, where only the events are read: the engine's census, then
    :func:`alsim.readouts.human.human_clinical` on its force (a third of the cost of
    :func:`alsim.simulate` is the Dataset). Returns ``onset_sim_day`` (simulation day),
    ``diagnosis_day``, ``ventilation_day`` and ``end_stage_day`` (days from onset), all
    (subjects,) float with NaN where an event did not happen, and ``last_sim_day`` (int).
    The events are the same numbers as those of ``alsim.simulate`` with the same seed.
    """
    if not species_of(scenario).onset_aligned:
        raise ValueError(f"simulate_human_events needs a human scenario, got species {scenario.species!r}")
    census = simulate_census(scenario, subjects=subjects, days=days, seed=seed)
    clinical = human_clinical(scenario, census.counts["force"], list(build_layout(scenario).muscle_names))
    onset = clinical["onset_day"].astype(np.float64)
    return {"onset_sim_day": onset,
            **{name: _event(clinical[name], onset).astype(np.float64)
               for name in ("diagnosis_day", "ventilation_day", "end_stage_day")},
            "last_sim_day": int(days)}
