"""What sets the length of the symptomatic phase: one-at-a-time probes of the shipped preset.

    python docs/diagnose_symptomatic_phase.py          # about 4 minutes on one core
    python docs/diagnose_symptomatic_phase.py probes   # the hand probes of docs/calibration.md (30 s)
    python docs/diagnose_symptomatic_phase.py synapses # FF and FR loss read as synapses or as units (10 s)

Each parameter of the shipped B6SJL and C57BL6 presets is moved down and up by the factor in
the table (the others as shipped), 16 mice of each strain, seed 3, without electrophysiology;
the rows are the training statistics as the calibration reads them
(``alsim.inference.summaries``). The C57BL6 preset keeps its own clock, so the two clock rows
move B6SJL's clock only on B6SJL and C57BL6's own on C57BL6. Prints a Markdown table for
docs/calibration.md (*What sets the length of the symptomatic phase*). Not a calibration.
"""

from __future__ import annotations

import math
import sys

import alsim
from alsim.inference.observations import fitted_statistics
from alsim.inference.summaries import compute_all

SUBJECTS, SEED = 16, 3
STRAINS = {"B6SJL": "sod1-g93a-b6sjl", "C57BL6": "sod1-g93a-c57bl6"}
FACTORS = [
    ("disease.burden_scale_days", 0.9, 1.1), ("disease.burden_exponent", 0.7, 1.3),
    ("unit_types.FR.vulnerability", 0.5, 2.0), ("unit_types.FF.vulnerability", 0.5, 2.0),
    ("unit_types.S.vulnerability", 0.33, 3.0), ("rates.terminal_retraction_per_stress", 0.5, 2.0),
    ("clinical.onset_force_fraction", 0.75, 1.25), ("structure.early_burden_amplitude", 0.33, 3.0),
    ("structure.orphan_death", 0.5, 2.0), ("structure.sprouting_stress_scale", 0.33, 3.0),
    ("variability.copy_number_log_sd", 0.5, 2.0), ("rates.fibre_atrophy", 0.33, 3.0),
    ("rates.fibre_csa_floor", 0.5, 1.67), ("rates.sprouting", 0.33, 3.0),
    ("unit_types.FR.sprouting_competence", 0.33, 3.0), ("unit_types.S.max_enlargement", 0.6, 1.6),
    ("rates.stress_time_constant_days", 0.5, 2.0), ("muscle_feedback.destabilising_gain", 0.0, 2.0),
    ("clinical.end_stage_hindlimb_force_fraction", 0.75, 1.25),
]
#: Hand probes: shared settings, then B6SJL's own clock, then C57BL6's own clock.
PROBES = [
    ("early burden x3, S vulnerability 0.006, onset threshold 0.30, shallower clocks",
     ["structure.early_burden_amplitude=1.0", "unit_types.S.vulnerability=0.006", "clinical.onset_force_fraction=0.30"],
     ["disease.burden_exponent=3.4", "disease.burden_scale_days=76"],
     ["disease.burden_exponent=2.5", "disease.burden_scale_days=108"]),
]
B6SJL_KEYS = {"onset": "b6sjl_onset_mixed_mean_pfohl2015", "end stage": "b6sjl_endstage_cs4_mixed_mean_solomon2011",
              "end-stage SD": "b6sjl_endstage_cs4_mixed_sd_solomon2011",
              "P30 loss": "g93a_fastfatigablemuscles_innervationlossvswildtypefraction_p30_vinsant2013",
              "FR half lost": "fr_units_half_lost_day"}
C57_KEYS = {"onset": "c57bl6_onset_mixed_mean_pfohl2015", "survival F": "c57bl6_survival_f_mean_cantor2018",
            "survival M": "c57bl6_survival_m_mean_cantor2018"}


def value_of(scenario, path: str) -> float:
    node = scenario.model_dump(mode="python")
    for part in path.split("."):
        node = node[part]
    return float(node["value"] if isinstance(node, dict) else node)


def cohort(strain: str, sets: list[str]) -> tuple[dict, int, int]:
    """(statistics, rows inside 1.645 error SDs, rows) of one cohort."""
    scenario, _ = alsim.load_scenario(STRAINS[strain], sets)
    ds = alsim.simulate(scenario, subjects=SUBJECTS, seed=SEED, electrophysiology=False)
    statistics = fitted_statistics(scenario.strain)
    values = compute_all(ds, statistics)
    inside = sum(math.isfinite(values[s.key]) and abs(values[s.key] - s.observed) <= 1.645 * s.error_sd
                 for s in statistics)
    return values, inside, len(statistics)


def cells(b6sjl_sets: list[str], c57_sets: list[str]) -> list[str]:
    b, b_in, b_n = cohort("B6SJL", b6sjl_sets)
    c, c_in, c_n = cohort("C57BL6", c57_sets)
    row = {k: b[v] for k, v in B6SJL_KEYS.items()}
    phase = row["end stage"] - row["onset"]
    c_phase = 0.5 * (c[C57_KEYS["survival F"]] + c[C57_KEYS["survival M"]]) - c[C57_KEYS["onset"]]
    return ([f"{row['onset']:.1f}", f"{row['end stage']:.1f}", f"**{phase:.1f}**", f"{row['end-stage SD']:.1f}",
             f"{row['P30 loss']:.2f}", f"{row['FR half lost']:.1f}", f"{row['onset'] - row['FR half lost']:+.1f}",
             f"{c_phase:.1f}", f"{b_in}/{b_n}", f"{c_in}/{c_n}"])


HEADER = ["setting", "onset", "end stage", "onset to end stage", "end-stage SD", "P30 loss", "FR half lost",
          "onset - FR half lost", "C57BL6 onset to death", "B6SJL rows inside", "C57BL6 rows inside"]


def synapses() -> None:
    """When the hindlimb FF and FR units are half lost, read two ways from the weekly unit
    snapshots of the shipped B6SJL preset: as synapses (innervated endplates each unit holds, up
    to its own day-0 count: what Pun 2006 counted) and as functional units (the training
    statistic: an intact axon with at least one endplate). Medians over 16 mice, seed 3."""
    import numpy as np

    from alsim.biology.motor_units import build_layout
    from alsim.run import simulate_census

    scenario, _ = alsim.load_scenario(STRAINS["B6SJL"])
    census = simulate_census(scenario, subjects=SUBJECTS, days=140, seed=SEED)
    layout = build_layout(scenario)
    hindlimb = np.isin(layout.unit_muscle, np.nonzero(layout.muscle_is_hindlimb)[0])
    size = census.unit_size.astype(float)
    days = np.asarray(census.snapshot_day)

    def half_day(fraction: np.ndarray) -> str:
        below = np.median(fraction, axis=0) < 0.5
        return str(int(days[np.argmax(below)])) if below.any() else "not reached"

    print("| unit type | synapses held half lost (age, d) | functional units half lost (age, d) |")
    print("| --- | --- | --- |")
    for index, name in enumerate(("S", "FR", "FF")):
        units = hindlimb & (layout.unit_type == index)
        day0 = size[:, :1, units]
        held = np.minimum(size[:, :, units], day0).sum(-1) / day0.sum(-1)
        functional = ((size[:, :, units] > 0) & census.unit_axon_intact[:, :, units]).mean(-1)
        print(f"| {name} | {half_day(held)} | {half_day(functional)} |")


def main() -> None:
    rows = []
    if sys.argv[1:] == ["synapses"]:
        synapses()
        return
    if sys.argv[1:] == ["probes"]:
        for label, shared, b6sjl, c57 in PROBES:
            rows.append([label] + cells(shared + b6sjl, shared + c57))
    else:
        b6sjl, _ = alsim.load_scenario(STRAINS["B6SJL"])
        c57, _ = alsim.load_scenario(STRAINS["C57BL6"])
        rows.append(["shipped"] + cells([], []))
        for path, low, high in FACTORS:
            for factor in (low, high):
                b_sets = [f"{path}={value_of(b6sjl, path) * factor:.6g}"]
                c_sets = [f"{path}={value_of(c57, path) * factor:.6g}"]
                rows.append([f"`{path}` x{factor:g}"] + cells(b_sets, c_sets))
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    print("| " + " | ".join(HEADER) + " |")
    print("| " + " | ".join("---" for _ in HEADER) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
