"""The one verb of a run: ``simulate(scenario, ...) -> xarray.Dataset``, and the Dataset of a census.

:func:`simulate` runs a cohort in memory (:func:`alsim.run.census.simulate_census`) and
assembles its results Dataset (:func:`results_dataset`): the lab readouts, the clinical
events, the electrophysiology, masked after each subject's end stage. How the days are
counted is the species' (:mod:`alsim.biology.species`): ages in mice, days from symptom
onset in people (:mod:`alsim.run.human`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import xarray as xr

from .._version import __version__
from ..biology.motor_units import build_layout
from ..biology.species import species_of
from ..config.schema import UNIT_TYPES, Scenario
from ..engine.census import Census
from ..engine.streams import fresh_seed
from ..readouts import READOUTS, TYPED_READOUTS, clinical_endpoints, lab_readouts
from ..readouts.clinical import END_STAGE_DEFINITION, ONSET_DEFINITION
from ..readouts.selection import ALL, NO_EMG, ReadoutSelection
from ..readouts.emg.simulated import DEFAULT_MUNE_METHOD, EMG_DAY_DEFINITION, EMG_READOUTS, MUNE_METHODS, recording_setup
from .census import DEFAULT_BLOCK_SIZE, simulate_census
from .emg import emg_in_blocks
from .human import human_data_vars
from .tasks import local_scheduler, local_threads

__all__ = ["ENGINE", "results_dataset", "simulate"]

ENGINE = "numba"
"""The engine that made a result: the compiled one (recorded in the ``backend`` attribute,
which results written before the NumPy engine was removed also carry)."""


def simulate(scenario: Scenario, *, subjects: int = 10, days: int | None = None, seed: int | None = None,
             workers: int = 1, progress: Callable[[int], None] | None = None,
             scheduler: str | None = None, mune_method: str = DEFAULT_MUNE_METHOD,
             electrophysiology: bool = True, readouts: ReadoutSelection | None = None,
             stop_at_end_stage: bool | None = None) -> xr.Dataset:
    """Simulate a cohort of ``subjects`` animals of ``scenario`` for ``days`` days.

    Main arguments: the scenario (see :func:`alsim.load_scenario`), the number of
    subjects and days (default: the scenario's ``horizon_days``).
    Tuning: ``seed`` (``None`` draws one from OS entropy; the seed used is stored in
    the result), ``workers`` (threads or worker processes, :func:`alsim.run.tasks.local_threads`; results do not depend on it), ``progress``
    (called with subject-days completed) and ``scheduler`` (``"tcp://host:port"`` of a
    Dask cluster; default: a local one when ``workers > 1``). Electrophysiology: ``mune_method`` (``"multipoint"``, default,
    ``"incremental"`` or ``"scan"``: docs/electrophysiology.md) and ``electrophysiology``
    (``False`` leaves out ``cmap_fraction``, ``mune``, ``munix``, ``musix``, which cost
    about 1 ms per recording, more than the simulation; they run on the same workers);
    ``readouts`` (:class:`alsim.readouts.selection.ReadoutSelection`) also picks their muscles and days.
    ``stop_at_end_stage`` (default: the species', people only) stops each subject's engine on
    its end-stage day; the readouts, NaN after end stage anyway, are the same.

    Returns an :class:`xarray.Dataset` with dims ``subject``, ``muscle``, ``day`` (age in
    days), ``unit_type`` and ``emg_day`` (ages of the electrophysiology recordings: every
    7th day and the last); readouts are NaN after each subject's end stage.
    """
    if subjects < 1:
        raise ValueError(f"subjects must be at least 1, got {subjects}")
    days = scenario.horizon_days if days is None else days
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    seed = fresh_seed() if seed is None else int(seed)

    def run(address: str | None) -> xr.Dataset:
        census = simulate_census(scenario, subjects=subjects, days=days, seed=seed, workers=workers,
                                 progress=progress, scheduler=address, stop_at_end_stage=stop_at_end_stage)
        return results_dataset(scenario, census, seed=seed, mune_method=mune_method,
                               electrophysiology=electrophysiology, workers=workers, scheduler=address,
                               readouts=readouts)

    if workers > 1 and scheduler is None and subjects > DEFAULT_BLOCK_SIZE:
        with local_scheduler(workers, threads=local_threads(workers, subjects)) as address:     # one cluster for both
            return run(address)
    return run(scheduler)


def results_dataset(scenario: Scenario, census: Census, *, seed: int, mune_method: str = DEFAULT_MUNE_METHOD,
                    electrophysiology: bool = True, workers: int = 1, scheduler: str | None = None,
                    grid_onset: np.ndarray | None = None, readouts: ReadoutSelection | None = None) -> xr.Dataset:
    """Assemble the readouts of a census into the results Dataset (end-stage masking included).

    ``grid_onset`` (species whose days count from onset): onset days whose extremes set the
    day grids, default the census's own (:func:`alsim.run.human.human_data_vars`).

    The electrophysiology readouts (dims subject, muscle, emg_day) need the census's unit
    snapshots; they are left out when ``electrophysiology`` is false or the census has none.
    They are computed in blocks of subjects on ``workers`` (threads or processes) or on ``scheduler``
    (:func:`alsim.run.emg.emg_in_blocks`); the result does not depend on either. ``readouts``
    (default: all, or none of the electrophysiology without ``electrophysiology``) picks them.
    """
    readouts = readouts if readouts is not None else (ALL if electrophysiology else NO_EMG)
    if mune_method not in MUNE_METHODS:
        raise ValueError(f"mune_method must be one of {', '.join(MUNE_METHODS)}, got {mune_method!r}")
    options = dict(seed=seed, mune_method=mune_method, readouts=readouts, workers=workers, scheduler=scheduler)
    if species_of(scenario).onset_aligned:
        data_vars, coords, attrs = human_data_vars(scenario, census, grid_onset=grid_onset, **options)
    else:
        data_vars, coords, attrs = age_data_vars(scenario, census, **options)
    data_vars.update(_subject_traits(census))
    return xr.Dataset(data_vars, coords=coords, attrs={**_common_attrs(scenario, seed), **attrs})


def age_data_vars(scenario: Scenario, census: Census, *, seed: int, mune_method: str, readouts: ReadoutSelection,
                  workers: int = 1, scheduler: str | None = None) -> tuple[dict, dict, dict]:
    """(data_vars, coords, attrs) of a run whose ``day`` is the subjects' age (mice)."""
    layout = build_layout(scenario)
    muscles = list(layout.muscle_names)
    n_days = census.counts["force"].shape[-1]
    units_per_muscle = np.diff(layout.unit_start)
    values = lab_readouts(census, units_per_muscle, layout.units_per_type, np.diff(layout.endplate_start))
    clinical = clinical_endpoints(scenario, census.counts["force"], muscles)
    day = np.arange(n_days)
    after_end = day[None, :] > np.nan_to_num(clinical["end_stage_day"], nan=np.inf)[:, None]   # (subject, day)

    data_vars = {}
    for r in READOUTS:
        v = np.where(after_end[:, None, :], np.nan, values[r.name]).astype(np.float32)
        data_vars[r.name] = (("subject", "muscle", "day"), v, r.attrs)
    for r in TYPED_READOUTS:
        v = np.where(after_end[:, None, None, :], np.nan, values[r.name]).astype(np.float32)
        data_vars[r.name] = (("subject", "muscle", "unit_type", "day"), v, r.attrs)
    limb = np.where(after_end, np.nan, clinical["hindlimb_force_fraction"]).astype(np.float32)
    data_vars["hindlimb_force_fraction"] = (("subject", "day"), limb, {
        "units": "1", "long_name": "hindlimb force, fraction of the subject's own day-0 force",
        "description": "Summed force of the hindlimb muscles."})
    coords = {"subject": census.subject, "muscle": muscles, "unit_type": list(UNIT_TYPES),
              "day": ("day", day, {"units": "d", "axis": "T", "long_name": "age",
                                   "description": "age in days since birth"})}
    emg_attrs = {}
    readouts.check_muscles(muscles)
    readouts.cadence(species_of(scenario))
    if readouts.emg and census.unit_size is not None:
        emg = emg_in_blocks(census, layout, seed=seed, mune_method=mune_method, until_day=clinical["end_stage_day"],
                            setup=recording_setup(species_of(scenario).recording), workers=workers,
                            scheduler=scheduler, selection=readouts)
        emg_day = np.asarray(census.snapshot_day)
        after_end_emg = emg_day[None, :] > np.nan_to_num(clinical["end_stage_day"], nan=np.inf)[:, None]
        for r in EMG_READOUTS:
            v = np.where(after_end_emg[:, None, :], np.nan, emg[r.name]).astype(np.float32)
            data_vars[r.name] = (("subject", "muscle", "emg_day"), v, r.attrs)
        coords["emg_day"] = ("emg_day", emg_day, {"units": "d", "long_name": "age at the recording",
                                                    "description": EMG_DAY_DEFINITION})
        emg_attrs = {"mune_method": mune_method, "emg_day_coordinate": EMG_DAY_DEFINITION,
                     **readouts.attrs(muscles)}
    emg_attrs = emg_attrs or (readouts if census.unit_size is not None else NO_EMG).attrs(muscles)
    data_vars["onset_day"] = ("subject", clinical["onset_day"], {"units": "d", "long_name": "age at onset",
                                                                  "description": ONSET_DEFINITION})
    data_vars["end_stage_day"] = ("subject", clinical["end_stage_day"], {"units": "d", "long_name": "age at end stage",
                                                                          "description": END_STAGE_DEFINITION})
    attrs = {"onset_definition": ONSET_DEFINITION, "end_stage_definition": END_STAGE_DEFINITION,
             "day_coordinate": "age in days since birth",
             "masking": "readouts are NaN after the subject's end stage (no measurements after the humane end point)",
             **emg_attrs}
    return data_vars, coords, attrs


def _subject_traits(census: Census) -> dict:
    return {
        "sex": ("subject", np.where(census.is_female, "F", "M").astype("U1"), {"description": "F or M"}),
        "litter": ("subject", census.litter, {"description": "litter index (littermates share a litter effect)"}),
        "burden_multiplier": ("subject", census.burden_multiplier, {
            "units": "1", "long_name": "disease-burden multiplier",
            "description": "the subject's disease-burden multiplier b (copy number, litter, sex)"}),
    }


def _common_attrs(scenario: Scenario, seed: int) -> dict:
    return {"Conventions": "CF-1.10",
            "title": f"alsim results: {scenario.name}",
            "scenario_name": scenario.name,
            "scenario_json": json.dumps(scenario.model_dump(mode="json")),  # key order matters: muscles are laid out in it
            "strain": scenario.strain,
            "genotype": scenario.genotype,
            "species": scenario.species,
            "hypothesis": scenario.hypothesis.name,
            "seed": int(seed),
            "backend": ENGINE,
            "alsim_version": __version__}
