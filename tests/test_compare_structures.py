"""``alsim compare --structures``: structures x hypotheses on B6SJL and C57BL6 together, end to end
with a tiny budget (the numbers mean nothing; the plumbing is under test)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from alsim.cli import main
from alsim.inference.structures import STRUCTURES

TINY = ["--budget", "40", "--population", "5", "--subjects", "2", "--workers", "1", "--seed", "3"]


def test_compare_structures_writes_every_model_and_the_surviving_posteriors(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", "--structures", ",".join(STRUCTURES), *TINY, "--out", str(out)]) == 0
    summary = json.loads((out / "structures.json").read_text())
    models = {m["model"]: m for m in summary["models"]}
    assert set(models) == {f"{s}/{h}" for s in STRUCTURES for h in ("dying_back", "dying_forward", "independent")}
    assert sum(m["probability"] for m in models.values()) == pytest.approx(1.0)
    assert 0 < summary["n_simulations"] <= 40 and summary["request"]["structures"] == list(STRUCTURES)
    alive = [name for name, m in models.items() if m["probability"] > 0]
    for name in alive:
        for strain in ("B6SJL", "C57BL6"):
            frame = pd.read_csv(out / "posteriors" / f"{name.replace('/', '-')}-{strain}.csv")
            assert frame["weight"].sum() == pytest.approx(1.0)
            assert not any(":" in column for column in frame.columns)       # a strain's own paths, unprefixed
    assert not list(tmp_path.glob(".cmp*")), "the in-progress folder is renamed into place"


@pytest.mark.parametrize("extra, message", [
    (["--structures", "original,linear"], "unknown structure(s) linear; allowed: original, terminal_first"),
    (["--structures", "original", "--priors", "dying_back=x.toml"], "leave out --preset and --priors"),
    (["--structures", "original", "--resume"], "no interrupted run"),
])
def test_bad_structure_comparisons_exit_2_naming_the_option_and_write_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "cmp"
    assert main(["compare", *extra, *TINY, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err.replace("\n", " ")
    assert not out.exists() and not list(tmp_path.glob(".cmp*"))
