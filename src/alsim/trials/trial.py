"""The trial verb: settings (a design file and options) -> a validated design -> arms
simulated and compared.

:func:`run_trial` is what ``alsim trial`` does, less the output folder and the page:
the settings are those of a design file (:mod:`alsim.trials.design`), the result holds
every arm of every replicate and the summary that ``trial.json`` stores. ``alsim
window`` is a trial whose arms are one treatment started on different days
(:func:`window_settings`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config.loading import ScenarioError
from .design import TrialDesign
from .execute import ArmRun

__all__ = ["TrialResult", "design_from_settings", "run_trial", "trial_settings", "window_settings"]

#: Age (days) at which a window counts motor neurons unless told otherwise (or the follow-up, if shorter).
WINDOW_COUNT_DAY = 110


@dataclass(frozen=True)
class TrialResult:
    """A finished trial: ``runs[replicate][arm label]`` (replicate 0 is the reported
    trial, 1.. the power replicates) and ``summary``, the contents of ``trial.json``."""

    design: TrialDesign
    runs: dict[int, dict[str, ArmRun]]
    summary: dict


def trial_settings(scenario: str | None, design_file: Path | None, options: Mapping) -> dict:
    """A design file's settings with ``options`` (the command line) merged in: an option
    wins where it is given (not None and not empty). ``scenario`` (a preset or TOML file)
    wins over the file's; ScenarioError when neither gives one."""
    from .design import read_design_file

    settings = read_design_file(design_file) if design_file is not None else {}
    for key, value in options.items():
        if value not in (None, [], ()):
            settings[key] = value
    if scenario is not None:
        settings["scenario"] = scenario
    if "scenario" not in settings:
        raise ScenarioError("SCENARIO: give a preset name or TOML file, or a --design file with `scenario = ...`")
    return settings


def design_from_settings(settings: Mapping, default_replicates: int = 0) -> TrialDesign:
    """A validated :class:`TrialDesign` from settings with a design file's keys
    (ScenarioError names the field). Trials take mouse scenarios only: onset and end
    stage are days of age. Without a seed, one is drawn (and recorded by the design)."""
    from ..biology.interventions import load_catalogue
    from ..config import load_scenario
    from ..engine.streams import fresh_seed
    from .design import parse_arm

    overrides = list(settings.get("set", []))
    if settings.get("hypothesis"):
        overrides.append(f"hypothesis.name={settings['hypothesis']}")
    base, _ = load_scenario(str(settings["scenario"]), overrides)
    if base.species != "mouse":
        raise ScenarioError(f"scenario: trials and windows take mouse scenarios (onset and end stage as days of age); "
                            f"'{base.name}' is {base.species} (run it with alsim run; docs/human.md)")
    catalogue = load_catalogue([Path(p) for p in settings.get("treatments", [])])
    arms = settings.get("arms") or []
    if not isinstance(arms, list) or not all(isinstance(a, str) for a in arms):
        raise ScenarioError("arms: expected a list of strings such as [\"control\", \"musk_agonist@60:0.5\"]")
    return TrialDesign(
        scenario=base, arms=tuple(parse_arm(a, catalogue) for a in arms),
        per_arm=int(settings.get("per_arm", 10)), days=int(settings.get("days") or base.horizon_days),
        seed=int(settings["seed"]) if settings.get("seed") is not None else fresh_seed(),
        replicates=int(settings.get("replicates", default_replicates)), alpha=float(settings.get("alpha", 0.05)),
        count_day=settings.get("count_day"), count_readout=settings.get("count_readout", "endplates_innervated_fraction"),
        count_muscle=settings.get("count_muscle"))


def window_settings(scenario: str, treat: str, start_days: str, *, count_day: int | None = None,
                    **options) -> tuple[dict, list[int], list[str]]:
    """The trial settings of a timing window, its start days and its arm labels.

    ``treat`` is ``NAME[:DOSE]``; ``start_days`` ``"30,45,60"`` (ages). The arms are
    control and ``NAME@DAY[:DOSE]`` for each start day. The count is taken at
    ``count_day`` (default :data:`WINDOW_COUNT_DAY`, or the follow-up if shorter).
    ``options``: the other design-file keys (per_arm, replicates, seed, days, ...).
    """
    from ..config import load_scenario
    from .window import parse_start_days, window_arms

    starts = parse_start_days(start_days)
    labels = window_arms(treat, starts)
    settings = {"scenario": scenario, "arms": labels, **options}
    follow_up = options.get("days")
    if follow_up is None:
        follow_up = load_scenario(scenario, list(options.get("set") or []))[0].horizon_days
    settings["count_day"] = count_day if count_day is not None else min(WINDOW_COUNT_DAY, follow_up)
    return settings, starts, labels


def run_trial(design: TrialDesign | Mapping, *, workers: int = 1, scheduler: str | None = None,
              progress: Callable[[int], None] | None = None, checkpoint=None, cohort=None) -> TrialResult:
    """Run an in-silico trial: randomised, sex-balanced, litter-aware arms; Kaplan-Meier
    medians, log-rank, Cox; power over n with replicates.

    ``design``: a :class:`TrialDesign`, or settings with a design file's keys, e.g.
    ``{"scenario": "sod1-g93a-b6sjl", "arms": ["control", "musk_agonist@60:0.5"],
    "per_arm": 10, "seed": 1}``. ``workers`` (Dask workers on this machine) or
    ``scheduler`` (tcp://host:port) do not change the result. ``progress`` is called with
    the animal-days of each finished block; ``checkpoint`` (an
    :class:`alsim.store.WorkFolder`) keeps each block as it finishes and reuses those
    already there. ``cohort`` (an :class:`alsim.run.Cohort` of the design's scenario, e.g.
    :class:`alsim.inference.cohort.PosteriorCohort` drawn for
    :func:`alsim.trials.execute.subjects_needed` subjects with the design's seed): the
    parameters each animal runs with, by its subject index, whatever its arm; the
    summary then says where they came from (``parameter_uncertainty``).
    """
    from .analysis import summarise_trial
    from .execute import check_cohort, run_replicates

    if not isinstance(design, TrialDesign):
        design = design_from_settings(design)
    if cohort is not None:
        check_cohort(design, cohort)
    runs = run_replicates(design, list(range(design.replicates + 1)), workers=workers, scheduler=scheduler,
                          progress=progress, checkpoint=checkpoint, cohort=cohort)
    summary = summarise_trial(design, runs)
    if cohort is not None:
        summary["parameter_uncertainty"] = cohort_description(cohort)
    return TrialResult(design=design, runs=runs, summary=summary)


def cohort_description(cohort) -> dict:
    """What a trial's summary says of the cohort its animals' parameters came from: the
    cohort's attributes (a posterior's folder and hypothesis), less the base scenario."""
    described = {key: value for key, value in getattr(cohort, "attrs", {}).items() if key != "scenario_json"}
    described["parameter_uncertainty"] = (
        "each animal runs with the parameters its subject index draws from the cohort, the same whatever its arm; "
        "the reported trial's results.zarr hold them per animal (posterior_particle, parameter_value)")
    return described
