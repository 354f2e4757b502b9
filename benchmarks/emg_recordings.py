"""Per-recording cost of the EMG readouts: the compiled estimators against the NumPy oracle, run for run.

Usage: python benchmarks/emg_recordings.py [MICE] [PEOPLE]

Simulates MICE mice of the B6SJL preset and PEOPLE people of human-sals-limb, then times
each subject's recordings (CMAP, multipoint MUNE, MUNIX, MUSIX of every muscle on every
snapshot day to end stage) with the compiled code (alsim.readouts.emg.simulated) and with
the NumPy loops it replaced (tests/emg_reference.py), alternating which goes first, and
prints the per-recording medians, the engine's time per subject, and the largest
differences between the two (relative, float64; and the count of float32 values that differ).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import alsim  # noqa: E402
from alsim.biology.motor_units import build_layout  # noqa: E402
from alsim.run import simulate_census  # noqa: E402
from alsim.readouts.emg.simulated import muscle_conductors, recording_setup, subject_recordings  # noqa: E402
from tests.emg_reference import subject_recordings_reference  # noqa: E402


def compare(preset: str, subjects: int) -> None:
    scenario, _ = alsim.load_scenario(preset)
    setup = recording_setup(scenario.species)
    simulate_census(scenario, subjects=1, days=2, seed=0)
    start = time.perf_counter()
    census = simulate_census(scenario, subjects=subjects, days=scenario.horizon_days, seed=7, stop_at_end_stage=True)
    engine_s = (time.perf_counter() - start) / subjects
    layout = build_layout(scenario)
    conductors = muscle_conductors(layout, setup)
    end = alsim.run.results_dataset(scenario, census, seed=7, electrophysiology=False)
    until = np.nan_to_num(end["end_stage_day"].values if scenario.species != "human"
                          else end["onset_sim_day"].values + end["end_stage_day"].values, nan=np.inf)
    timings = {"new": [], "old": []}
    recordings, worst, float32_differ = 0, {}, 0
    functions = {"new": subject_recordings, "old": subject_recordings_reference}
    functions["new"](7, 0, census.unit_size[0], census.unit_axon_intact[0], census.snapshot_day, layout, conductors,
                     until_day=float(until[0]), setup=setup)                  # compile or load the kernels
    for i in range(subjects):
        args = (7, i, census.unit_size[i], census.unit_axon_intact[i], census.snapshot_day, layout, conductors)
        kw = dict(until_day=float(until[i]), setup=setup)
        out = {}
        for label in (("new", "old") if i % 2 == 0 else ("old", "new")):
            start = time.perf_counter()
            out[label] = functions[label](*args, **kw)
            timings[label].append(time.perf_counter() - start)
        made = np.isfinite(out["old"]["cmap_mV"])
        recordings += int(made.sum())
        for name in out["old"]:
            a, b = out["new"][name][made], out["old"][name][made]
            finite = np.isfinite(b) & (b != 0)
            worst[name] = max(worst.get(name, 0.0), float(np.max(np.abs(a[finite] / b[finite] - 1), initial=0.0)))
            a32, b32 = a.astype(np.float32), b.astype(np.float32)
            float32_differ += int((~((a32 == b32) | (np.isnan(a32) & np.isnan(b32)))).sum())
    per = {k: 1e3 * np.array(v) / (recordings / subjects) for k, v in timings.items()}
    print(f"{preset}: {subjects} subjects, {recordings} recordings; engine {engine_s:.3f} s a subject")
    for label in ("old", "new"):
        v = np.array(timings[label])
        print(f"  {label}: {np.median(v):.3f} s a subject (range {v.min():.3f}-{v.max():.3f}), "
              f"{np.median(per[label]):.2f} ms a recording; EMG / engine {np.median(v) / engine_s:.2f}")
    ratio = np.array(timings["old"]) / np.array(timings["new"])
    print(f"  old / new per subject: median {np.median(ratio):.1f}x (range {ratio.min():.1f}-{ratio.max():.1f})")
    print(f"  largest relative difference {worst}; float32 values that differ: {float32_differ}")


if __name__ == "__main__":
    compare("sod1-g93a-b6sjl", int(sys.argv[1]) if len(sys.argv) > 1 else 8)
    compare("human-sals-limb", int(sys.argv[2]) if len(sys.argv) > 2 else 2)
