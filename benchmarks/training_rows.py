"""Print every fitted training row of a mouse preset against one simulated cohort.

    python benchmarks/training_rows.py sod1-g93a-b6sjl [--set KEY=VALUE ...] [--subjects 16] [--seed 3]

Each row: observed value, its observation error SD (alsim.inference.observations), the
cohort's value as the calibration reads it (alsim.inference.summaries) and z = (simulated
- observed) / error SD; "inside" counts |z| <= 1.645. One cohort, no predictive interval:
docs/model_fit.md gives those.
"""

import argparse
import math

import alsim
from alsim.inference.observations import fitted_statistics
from alsim.inference.summaries import compute_all

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("preset")
parser.add_argument("--set", dest="overrides", action="append", default=[])
parser.add_argument("--subjects", type=int, default=16)
parser.add_argument("--seed", type=int, default=3)
args = parser.parse_args()
scenario, _ = alsim.load_scenario(args.preset, args.overrides)
ds = alsim.simulate(scenario, subjects=args.subjects, seed=args.seed, electrophysiology=False)
statistics = fitted_statistics(scenario.strain)
values = compute_all(ds, statistics)
inside = 0
for s in statistics:
    v = values[s.key]
    z = (v - s.observed) / s.error_sd if math.isfinite(v) else math.inf
    inside += abs(z) <= 1.645
    print(f"{s.label[:70]:70s} observed {s.observed:7.2f}  sd {s.error_sd:5.2f}  simulated {v:7.2f}  z {z:+5.1f}")
print(f"{inside} of {len(statistics)} rows within 1.645 error SDs ({args.preset}, {scenario.hypothesis.name}, "
      f"{args.subjects} mice, seed {args.seed})")
