"""`alsim bench --quick --json`: runs, and reports the figures the issue asks for."""

from __future__ import annotations

import json

import pytest

from alsim.cli import main


def test_bench_quick_json(capsys):
    assert main(["bench", "--quick", "--json", "--workers", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("engine_endplate_days_per_s", "reference_endplate_days_per_s", "speedup_vs_reference",
                "trial_1000_mice_s", "peak_memory_mb", "cores", "numba_compile_or_cache_load_s",
                "scaling_1_worker_s", "scaling_2_workers_s", "scaling_2_worker_processes_s",
                "human_endplate_days_per_s", "human_s_per_person"):
        assert key in result
    assert result["engine_endplate_days_per_s"] > result["reference_endplate_days_per_s"] > 0
    assert result["trial_1000_mice_s"] is None and result["trial_s"] > 0
    assert result["human_endplates_per_person"] == 35550 and result["human_endplate_days_per_s"] > 0


def test_command_rows_give_each_stage_and_the_ratio_to_the_engine():
    from alsim.bench_commands import _shares, command_rows

    stages = {"engine_s": 2.0, "readouts_s": 1.0, "store_s": 0.5, "report_s": 0.5}
    cohort = {"subjects": 4, **_shares(stages, 5.0)}
    assert cohort["ratio_to_engine"] == 2.5 and cohort["engine_share"] == 0.5
    result = {"workers": 2, "run_mice": cohort, "trial": cohort, "run_people": cohort,
              "calibrate": {"budget": 10, "subjects": 2, "command_s": 4.0, "simulations_per_s": 2.5}}
    rows = dict(command_rows(result))
    assert rows["alsim run, 4 mice, 2 worker(s)"] == "5.0 s = 2.5x the engine's 2.0 s"
    assert "2.50 simulations/s" in rows["alsim calibrate, budget 10, 2 mice a simulation"]


@pytest.mark.slow
def test_bench_commands_quick_json(capsys):
    """The end-to-end commands at tiny sizes (about a minute on a quiet machine: four commands and their reports)."""
    assert main(["bench", "--commands", "--quick", "--json", "--workers", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("run_mice", "trial", "run_people"):
        r = result[key]
        assert r["command_s"] > 0 and r["engine_s"] > 0 and r["ratio_to_engine"] > 0, key
        assert sum(r[f"{s}_share"] for s in ("engine", "readouts", "store", "report")) == pytest.approx(1.0)
    assert result["calibrate"]["simulations_per_s"] > 0
