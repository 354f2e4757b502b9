"""Electrophysiology of a simulated run: CMAP, MUNE, MUNIX and MUSIX of each muscle's own units.

The engines keep, on the census snapshot days (every 7th day of age and the last,
:func:`alsim.engine.census.snapshot_days`), each unit's innervated fibres ``n_u`` and
whether its axon is intact. On each of those days a muscle's *recordable pool* is its
functional units (axon intact, ``n_u >= 1``), each with ``n_u`` fibres of normal
cross-section. What the engine does not model is drawn once per subject from its own
electrophysiology stream (:func:`alsim.engine.streams.emg_generator`) and kept for
life: each unit's depth below the electrode (all its fibres at its territory centre),
its axon's stimulation threshold (log-uniform) and its latency. So a unit's SMUP scales
with its size, shrinks with depth, and grows when the unit adopts fibres by sprouting.
Its voluntary recruitment threshold (for MUNIX) is set by its baseline size, i.e. its motor
neuron, and kept for life (:func:`unit_recruitment`; no random draw).

Each recording (subject, muscle, age) then runs the estimators of
:mod:`alsim.readouts.emg` with noise from its own stream (keys: muscle index, age, and
0 for MUNE, 1 for MUNIX), so the readouts are the same bits whatever the block size,
the workers, the MUNE method (for MUNIX) or the other recordings. The electrode gain
of each muscle (``VolumeConductor.sfap_uV``) is fixed per scenario so that a healthy
muscle of the layout's baseline sizes gives ``RecordingSetup.cmap_mV``; subjects then
differ around it. All setup values are assumed (docs/electrophysiology.md).
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from ...biology.motor_units import Layout
from ...engine.streams import emg_generator
from ..lab import Readout
from ..selection import ReadoutSelection
from .kernels import recording, repeated_sums
from .mune import incremental_mune, incremental_of_units, multipoint_mune, multipoint_of_units
from .munix import (FORCE_GRID, VoluntaryDrive, _smup_shape, munix, munix_of_units, sip_step_ms,
                    size_principle_thresholds)
from .pool import MotorUnitPool
from .potentials import VolumeConductor, biphasic, calibrate, fibre_contributions_uV
from .scan import cmap_scan, scan_fit_mune

MUNE_METHODS: tuple[str, ...] = ("multipoint", "incremental", "scan")
DEFAULT_MUNE_METHOD = "multipoint"
"""Multiple point stimulation: in the model it is unbiased within its sampling error when unit
excitability does not go with unit size (as here), cheap, and close to the incremental
method in SOD1-G93A mice (docs/electrophysiology.md, *Which MUNE method*)."""
MUNE_STREAM, MUNIX_STREAM = 0, 1
EMG_DAY_DEFINITION = ("age in days of the electrophysiology recordings: every 7th day of age and the last day "
                      "(the engine's per-unit snapshot days)")

EMG_READOUTS: tuple[Readout, ...] = (
    Readout("cmap_fraction", "1",
            "Negative-peak amplitude of the supramaximal compound muscle action potential (sum of the SMUPs of the "
            "functional units, with phase cancellation).",
            long_name="CMAP amplitude, fraction of the subject's own day-0 CMAP"),
    Readout("mune", "1",
            "Motor unit number estimate by the method in the Dataset attribute mune_method: CMAP amplitude / mean "
            "sampled SMUP (multipoint, incremental) or a CMAP-scan model fit (scan); carries the method's bias.",
            long_name="motor unit number estimate (motor units)"),
    Readout("munix", "1",
            "MUNIX (Nandedkar 2004): the ideal-case motor unit count at surface interference area 20 mV ms, "
            "from 20 simulated SIP epochs of 500 ms at 2-100 % of the muscle's current maximal force.",
            long_name="motor unit number index (an index, not a count)"),
    Readout("musix", "uV", "MUSIX: CMAP negative-peak amplitude / MUNIX (motor unit size index).",
            long_name="motor unit size index"),
)


@dataclass(frozen=True)
class RecordingSetup:
    """How a muscle is recorded. Mouse defaults, all **assumed** (docs/electrophysiology.md).

    cmap_mV: day-0 CMAP of a healthy muscle with the layout's baseline unit sizes (sets the gain).
    depth_mm: unit territory centres, uniform between these depths below the electrode.
    threshold_mA: axon thresholds, log-uniform in this range (unrelated to unit size).
    latency_ms, latency_sd_ms: latency of the SMUP negative peak, normal across units.
    relative_spread: shock-to-shock threshold sd / threshold.
    noise_uV: baseline noise of each response.
    conductor: the volume conductor (its ``sfap_uV`` is replaced by the calibrated gain).
    """

    cmap_mV: float = 20.0
    depth_mm: tuple[float, float] = (0.5, 2.5)
    threshold_mA: tuple[float, float] = (1.0, 3.0)
    latency_ms: float = 1.5
    latency_sd_ms: float = 0.1
    relative_spread: float = 0.015
    noise_uV: float = 5.0
    conductor: VolumeConductor = field(default_factory=lambda: VolumeConductor(phase_ms=0.5, window_ms=10.0))


MOUSE = RecordingSetup()
HUMAN = RecordingSetup(cmap_mV=11.5, depth_mm=(2.0, 12.0), threshold_mA=(5.0, 15.0), latency_ms=3.5, latency_sd_ms=0.3,
                       conductor=VolumeConductor(phase_ms=1.5, window_ms=30.0))
"""Human hand-muscle recordings, **assumed**: CMAP 11.5 mV (APB, MUNIX x MUSIX of Cao et al. 2020,
potentials.LITERATURE), distal latency 3.5 ms, deeper and wider units and slower SMUP phases than in mice."""


RECORDING_SETUPS = {"mouse": MOUSE, "human": HUMAN}
"""Setups by name (:attr:`alsim.biology.species.Species.recording`)."""


def recording_setup(name: str) -> RecordingSetup:
    """The recording setup named ``name`` (a species' ``recording``: ``"mouse"`` or ``"human"``)."""
    return RECORDING_SETUPS[name]


@dataclass(frozen=True)
class UnitProperties:
    """What the engine does not model, per unit (layout order), fixed for a subject's life."""

    depth_mm: np.ndarray       # (U,) territory centre below the electrode
    threshold_mA: np.ndarray   # (U,) mean stimulation threshold
    latency_ms: np.ndarray     # (U,) latency of the SMUP negative peak


def unit_properties(seed: int, subject: int, n_units: int, setup: RecordingSetup = MOUSE) -> UnitProperties:
    """The first draws of the subject's electrophysiology stream: depth, threshold, latency of every unit."""
    g = emg_generator(seed, subject)
    lo, hi = setup.threshold_mA
    depth = g.uniform(setup.depth_mm[0], setup.depth_mm[1], n_units)
    threshold = lo * (hi / lo) ** g.random(n_units)
    latency = setup.latency_ms + setup.latency_sd_ms * g.standard_normal(n_units)
    return UnitProperties(depth, threshold, latency)


def unit_recruitment(layout: Layout) -> np.ndarray:
    """(U,) voluntary recruitment threshold of every unit (fraction of maximal excitation), for life.

    Size principle on the healthy pool: each muscle's units ranked by their baseline size (their
    motor neuron's type), ties in layout order. A unit keeps its threshold when it adopts fibres
    or when others die, so an enlarged slow unit is still among the first recruited.
    """
    out = np.empty(layout.n_units)
    for m in range(layout.n_muscles):
        units = slice(int(layout.unit_start[m]), int(layout.unit_start[m + 1]))
        out[units] = size_principle_thresholds(layout.unit_baseline_size[units])
    return out


def recordable_pool(size: np.ndarray, axon_intact: np.ndarray, props: UnitProperties, units: slice,
                    setup: RecordingSetup = MOUSE, recruitment: np.ndarray | None = None) -> MotorUnitPool:
    """The functional units among ``units`` (axon intact, >= 1 fibre), each with its ``size`` fibres.

    ``recruitment`` (U,), e.g. :func:`unit_recruitment`, gives the units their voluntary recruitment
    thresholds; without it MUNIX recruits by current size.
    """
    n = np.asarray(size[units], dtype=np.int64)
    keep = np.asarray(axon_intact[units], dtype=bool) & (n >= 1)
    fibres = n[keep]
    ptr = np.concatenate([[0], np.cumsum(fibres)])
    rte = None if recruitment is None else np.asarray(recruitment)[units][keep]
    return MotorUnitPool(ptr, np.ones(int(ptr[-1])), np.repeat(props.depth_mm[units][keep], fibres),
                         props.threshold_mA[units][keep], props.latency_ms[units][keep], setup.relative_spread, rte)


def muscle_conductors(layout: Layout, setup: RecordingSetup = MOUSE) -> list[VolumeConductor]:
    """Per muscle, the conductor whose gain gives ``setup.cmap_mV`` for a typical healthy muscle.

    The typical muscle: the layout's baseline sizes, depths and latencies at evenly spaced
    quantiles of their distributions (no random draw, so the gain is a property of the scenario).
    """
    out = []
    for m in range(layout.n_muscles):
        sizes = layout.unit_baseline_size[layout.unit_start[m]:layout.unit_start[m + 1]].astype(np.int64)
        q = (np.arange(len(sizes)) + 0.5) / len(sizes)
        d0, d1 = setup.depth_mm
        typical = MotorUnitPool(np.concatenate([[0], np.cumsum(sizes)]), np.ones(int(sizes.sum())),
                                np.repeat(d0 + (d1 - d0) * q, sizes), np.ones(len(sizes)),
                                setup.latency_ms + setup.latency_sd_ms * ndtri(q), setup.relative_spread)
        out.append(calibrate(typical, setup.conductor, setup.cmap_mV))
    return out


MUNE_ERRORS = (IndexError, FloatingPointError, ZeroDivisionError)
"""What a MUNE method raises when it gets no estimate (e.g. no increment above the noise criterion)."""
MUNIX_ERRORS = (ValueError, TypeError, FloatingPointError, np.linalg.LinAlgError)
"""What MUNIX raises when its regression fails (e.g. fewer than two distinct SIP areas)."""


def _quietly(estimate, *args, errors=MUNIX_ERRORS):
    """``estimate(*args)`` with floating-point warnings silenced; None when it raises one of ``errors``."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return estimate(*args)
    except errors:
        return None


def estimate_mune(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator, method: str,
                  setup: RecordingSetup = MOUSE) -> float:
    """MUNE of ``pool`` by ``method`` (one of :data:`MUNE_METHODS`); NaN when the method gets no estimate."""
    if method not in MUNE_METHODS:
        raise ValueError(f"mune_method must be one of {', '.join(MUNE_METHODS)}, got {method!r}")
    if pool.n_units == 0:
        return 0.0

    def estimate():
        if method == "multipoint":
            return multipoint_mune(pool, vc, rng, noise_uV=setup.noise_uV).mune
        if method == "incremental":
            return incremental_mune(pool, vc, rng, noise_uV=setup.noise_uV).mune
        scan = cmap_scan(pool, vc, rng, noise_uV=setup.noise_uV)
        return scan_fit_mune(scan, relative_spread=setup.relative_spread, noise_uV=setup.noise_uV).mune

    return _finite(_quietly(estimate, errors=MUNE_ERRORS))


def _finite(value) -> float:
    return float(value) if value is not None and np.isfinite(value) else float("nan")


def _munix_values(result) -> tuple[float, float]:
    """(MUNIX, MUSIX µV) of a :class:`MunixResult`; NaN for a failed or non-positive index."""
    if result is None or not (np.isfinite(result.munix) and result.munix > 0):
        return float("nan"), float("nan")
    return float(result.munix), float(result.musix_uV)


def estimate_munix(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator) -> tuple[float, float]:
    """(MUNIX, MUSIX µV) of ``pool``; (0, NaN) without units, NaN when the regression fails."""
    if pool.n_units == 0:
        return 0.0, float("nan")
    return _munix_values(_quietly(munix, pool, vc, rng))


def _defaults(function, *names: str) -> tuple:
    """The default values of ``function``'s parameters ``names``: what a recording uses."""
    parameters = inspect.signature(function).parameters
    return tuple(parameters[name].default for name in names)


MULTIPOINT = _defaults(multipoint_of_units, "n_sites", "site_sd", "units_per_site", "separation")
"""The multipoint MUNE of a recording: :func:`~alsim.readouts.emg.mune.multipoint_of_units`'s defaults."""
DRIVE = VoluntaryDrive()
"""The voluntary drive of a recording's MUNIX (:class:`~alsim.readouts.emg.munix.VoluntaryDrive`'s defaults)."""
(SIA_REF_MV_MS,) = _defaults(munix_of_units, "sia_ref_mV_ms")
FORCE_LEVELS_ARRAY = np.asarray(DRIVE.force_levels, dtype=float)


@dataclass(frozen=True)
class MuscleUnits:
    """What a subject's recordings of one muscle share, per unit of the muscle (layout order):
    the SMUP amplitude of one fibre (µV, at the unit's depth), the unit-peak SMUP waveform on
    the conductor's grid (its latency), the stimulation threshold and the recruitment threshold;
    and the unit-peak SMUP on the SIP's grid (:func:`~alsim.readouts.emg.munix.sip_step_ms`)."""

    conductor: VolumeConductor
    fibre_uV: np.ndarray
    shapes: np.ndarray
    threshold_mA: np.ndarray
    recruitment: np.ndarray
    props: UnitProperties
    units: slice
    sip_shape: np.ndarray

    @classmethod
    def of(cls, props: UnitProperties, units: slice, vc: VolumeConductor, recruitment: np.ndarray) -> "MuscleUnits":
        depth = props.depth_mm[units]
        fibre = fibre_contributions_uV(MotorUnitPool(np.arange(len(depth) + 1), np.ones(len(depth)), depth,
                                                     props.threshold_mA[units], props.latency_ms[units]), vc)
        return cls(vc, fibre, biphasic(vc.t_ms, props.latency_ms[units], vc.phase_ms), props.threshold_mA[units],
                   np.asarray(recruitment, dtype=float)[units], props, units, _smup_shape(vc))


def record(muscle: MuscleUnits, size: np.ndarray, axon_intact: np.ndarray, mune_rng: np.random.Generator,
           munix_rng: np.random.Generator, method: str, setup: RecordingSetup = MOUSE) -> tuple[float, float, float, float]:
    """One recording (a muscle on one day) from the (U,) snapshot ``size``, ``axon_intact``:
    (CMAP mV, MUNE, MUNIX, MUSIX µV); the same values as :func:`recordable_pool` and the
    pool estimators (:func:`estimate_mune`, :func:`estimate_munix`) give, without building the pool.
    The CMAP, multipoint MUNE and MUNIX are one compiled call (:func:`~alsim.readouts.emg.kernels.recording`);
    the other MUNE methods run here."""
    n = np.asarray(size[muscle.units], dtype=np.int64)
    intact = np.asarray(axon_intact[muscle.units], dtype=bool)
    vc, dt = muscle.conductor, sip_step_ms(muscle.conductor)
    values = recording(mune_rng, munix_rng, n, intact, muscle.fibre_uV, muscle.shapes, muscle.threshold_mA,
                       muscle.recruitment, vc.dt_ms, setup.relative_spread, setup.noise_uV, method == "multipoint",
                       MULTIPOINT, muscle.sip_shape, dt, int(DRIVE.epoch_ms / dt),
                       (DRIVE.isi_cv, DRIVE.min_rate_hz, DRIVE.peak_rate_hz), FORCE_LEVELS_ARRAY, FORCE_GRID,
                       SIA_REF_MV_MS)
    cmap_mV, mune, munix_value, musix = (float(v) for v in values)
    kept = np.flatnonzero(intact & (n >= 1))
    if method == "multipoint" or len(kept) == 0:
        return cmap_mV, mune, munix_value, musix
    cmap_uV = cmap_mV * 1000.0
    amps = repeated_sums(n, muscle.fibre_uV)[kept]
    if method == "incremental":
        waveforms = amps[:, None] * muscle.shapes[kept]
        mune = _finite(_quietly(lambda: incremental_of_units(muscle.threshold_mA[kept], setup.relative_spread, waveforms,
                                                              cmap_uV, mune_rng, noise_uV=setup.noise_uV).mune,
                                errors=MUNE_ERRORS))
    else:
        pool = recordable_pool(size, axon_intact, muscle.props, muscle.units, setup, None)
        mune = estimate_mune(pool, vc, mune_rng, method, setup)
    return cmap_mV, mune, munix_value, musix


def subject_recordings(seed: int, subject: int, unit_size: np.ndarray, unit_axon_intact: np.ndarray,
                       snapshot_day: np.ndarray, layout: Layout, conductors: list[VolumeConductor],
                       method: str = DEFAULT_MUNE_METHOD, until_day: float = np.inf,
                       setup: RecordingSetup = MOUSE, recorded: np.ndarray | None = None,
                       on_snapshot: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """One subject's recordings, each (muscles, snapshots); ages after ``until_day`` are skipped (NaN).

    ``unit_size`` and ``unit_axon_intact`` are the subject's (snapshots, U) census snapshots;
    ``recorded`` (muscles, snapshots) bool, if given, the recordings to make (the others are NaN);
    ``on_snapshot`` (snapshots,) bool, if given, this subject's own recording days (people).
    Keys: ``cmap_mV``, ``mune``, ``munix``, ``musix``.
    """
    n_m, n_k = layout.n_muscles, len(snapshot_day)
    names = ("cmap_mV", "mune", "munix", "musix")
    out = {name: np.full((n_m, n_k), np.nan) for name in names}
    props = unit_properties(seed, subject, layout.n_units, setup)
    recruitment = unit_recruitment(layout)
    for m in range(n_m):
        muscle = MuscleUnits.of(props, slice(int(layout.unit_start[m]), int(layout.unit_start[m + 1])),
                                conductors[m], recruitment)
        for k, day in enumerate(snapshot_day):
            if day > until_day and k > 0:
                break
            if (recorded is not None and not recorded[m, k]) or (on_snapshot is not None and not on_snapshot[k]):
                continue
            mune_rng, munix_rng = (emg_generator(seed, subject, m, day, key) for key in (MUNE_STREAM, MUNIX_STREAM))
            values = record(muscle, unit_size[k], unit_axon_intact[k], mune_rng, munix_rng, method, setup)
            for name, value in zip(names, values):
                out[name][m, k] = value
    return out


def _recordings_of_block(seed: int, subjects: np.ndarray, unit_size: np.ndarray, unit_axon_intact: np.ndarray,
                         snapshot_day: np.ndarray, layout: Layout, conductors: list[VolumeConductor], method: str,
                         until_day: np.ndarray, setup: RecordingSetup, recorded: np.ndarray | None = None,
                         on_snapshot: np.ndarray | None = None) -> list[dict[str, np.ndarray]]:
    """:func:`subject_recordings` of a block of subjects (one task of :func:`emg_readouts`)."""
    return [subject_recordings(seed, int(subjects[i]), unit_size[i], unit_axon_intact[i], snapshot_day, layout,
                               conductors, method, float(until_day[i]), setup, recorded,
                               None if on_snapshot is None else on_snapshot[i]) for i in range(len(subjects))]


def emg_readouts(census, layout: Layout, *, seed: int, mune_method: str = DEFAULT_MUNE_METHOD,
                 until_day: np.ndarray | None = None, setup: RecordingSetup = MOUSE,
                 block_size: int = 16, selection: ReadoutSelection | None = None,
                 on_snapshot: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The :data:`EMG_READOUTS` of a census with unit snapshots, each (subject, muscle, snapshot).

    ``until_day`` (subject,) skips recordings after each subject's last day of interest
    (its end stage: those are masked anyway); NaN or None means all. ``cmap_fraction`` is
    relative to the subject's own day-0 CMAP (the first snapshot is age 0). Every recording
    has its own stream, so a cohort may be read in parts on several workers
    (:func:`alsim.run.emg.emg_in_blocks`) without changing a bit. ``selection``
    (:class:`alsim.readouts.selection.ReadoutSelection`) picks the muscles and days recorded;
    the others are NaN, and those made are the same bits as with every one. ``on_snapshot``
    (subject, snapshot) bool, if given, also picks each subject's own days (people: a cadence
    from each person's onset; the first snapshot must be among them, as the CMAP's reference).
    """
    if mune_method not in MUNE_METHODS:
        raise ValueError(f"mune_method must be one of {', '.join(MUNE_METHODS)}, got {mune_method!r}")
    if census.unit_size is None:
        raise ValueError("this census has no unit snapshots (unit_size); simulate it with alsim's engines")
    n = len(census.subject)
    until = np.full(n, np.inf) if until_day is None else np.nan_to_num(np.asarray(until_day, float), nan=np.inf)
    conductors = muscle_conductors(layout, setup)
    recorded = None if selection is None else selection.recorded(layout.muscle_names, census.snapshot_day,
                                                                 by_day=on_snapshot is None)
    blocks = [slice(start, start + block_size) for start in range(0, n, block_size)]
    tasks = [(seed, np.asarray(census.subject[b]), census.unit_size[b], census.unit_axon_intact[b], census.snapshot_day,
              layout, conductors, mune_method, until[b], setup, recorded,
              None if on_snapshot is None else on_snapshot[b]) for b in blocks]
    per_subject = [r for task in tasks for r in _recordings_of_block(*task)]
    stacked = {name: np.stack([r[name] for r in per_subject]) for name in per_subject[0]}
    base = stacked["cmap_mV"][..., :1]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(base > 0, stacked["cmap_mV"] / np.where(base > 0, base, 1.0), np.nan)
    return {"cmap_fraction": fraction, "mune": stacked["mune"], "munix": stacked["munix"], "musix": stacked["musix"]}

