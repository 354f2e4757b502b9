"""Print the preset's fit to the training rows it was hand-set to (used while setting parameters)."""
import sys
import numpy as np
import alsim

def q(x):
    return np.nanmedian(x)

preset = sys.argv[1] if len(sys.argv) > 1 else "sod1-g93a-b6sjl"
hyp = sys.argv[2] if len(sys.argv) > 2 else "dying_back"
n = int(sys.argv[3]) if len(sys.argv) > 3 else 16
sets = sys.argv[4:]
s, _ = alsim.load_scenario(preset, [f"hypothesis.name={hyp}", *sets])
r = alsim.simulate(s, subjects=n, seed=3, workers=1)
g, ta, so, di = "gastrocnemius", "tibialis_anterior", "soleus", "diaphragm"
den = r.endplates_denervated_fraction
for m in r.muscle.values:
    print(f"{m:18s} den@30,47,60,90,110:", [round(float(q(den.sel(muscle=m, day=d))), 2) for d in (30, 47, 60, 90, 110)],
          " full@90,110:", [round(float(q(r.endplates_fully_innervated_fraction.sel(muscle=m, day=d))), 2) for d in (90, 110)])
fu = r.motor_units_functional_by_type_fraction.sel(muscle=g)
for k in ["S", "FR", "FF"]:
    print(f"gastroc functional {k}@30,50,70,90,110:", [round(float(q(fu.sel(unit_type=k, day=d))), 2) for d in (30, 50, 70, 90, 110)])
limb = [g, ta, so]
mn = r.motor_neurons_alive_fraction.sel(muscle=limb).mean("muscle")
fmu = r.motor_units_functional_fraction.sel(muscle=limb).mean("muscle")
print("hindlimb MN alive @47,90,110,130:", [round(float(q(mn.sel(day=d))), 2) for d in (47, 90, 110, 130)])
print("hindlimb funct MU @40,47,60,90:", [round(float(q(fmu.sel(day=d))), 2) for d in (40, 47, 60, 90)])
print("force hindlimb @60,90,100:", [round(float(q(r.hindlimb_force_fraction.sel(day=d))), 2) for d in (60, 90, 100)])
print("size gastroc @0,60,90:", [round(float(q(r.mean_motor_unit_size.sel(muscle=g, day=d))), 1) for d in (0, 60, 90)])
o, e = r.onset_day.values, r.end_stage_day.values
print(f"onset {np.nanmedian(o):.1f} sd {np.nanstd(o):.1f}; end stage {np.nanmedian(e):.1f} mean {np.nanmean(e):.1f} sd {np.nanstd(e):.1f} (n reached {np.isfinite(e).sum()}/{len(e)})")
# end stage cause: diaphragm or limb
