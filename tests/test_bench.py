"""`alsim bench --quick --json`: runs, and reports the figures the issue asks for."""

from __future__ import annotations

import json

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
