"""What differs between a mouse and a person, in one place.

The engine, the rules and the lab readouts are the same for both species; what differs is
how a course is read and reported:

- **day coordinate**: a mouse's results are counted in days of age; a person's in days from
  their own symptom onset (a clinic reads a course from the day symptoms begin), which puts
  a cohort on one grid spanning its earliest to its latest onset (``onset_aligned``);
- **end stage**: a mouse reaches its humane end point (limb force); a person dies or is
  permanently ventilated (respiratory muscles); every human readout is NaN after it, so the
  engine may stop a person there (``stops_at_end_stage``); a mouse run shows the time
  courses to the horizon;
- **clinical events** kept per subject (``events``) and summarised (``summary_events``);
- **per-unit snapshots** every ``snapshot_every_days`` (weeks in mice, four weeks in people,
  whose course takes years), and the default **recording cadence** of the electrophysiology
  (``emg_every_days``: every snapshot in mice, every 12 weeks from onset in people, as a
  clinic follows a patient);
- **priors** for calibration: per hypothesis in mice, one packaged file for people;
- **regions and spread**: a person's disease starts in one region and spreads
  (:mod:`alsim.biology.spread`, the scenario's ``[spread]`` section); a mouse has none.

Code that must behave differently asks :func:`species_of` for these facts instead of
testing the species' name. A new species is one more :class:`Species` here, and its
clinical readouts where they differ (:func:`alsim.run.events.clinical_events`).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HUMAN", "MOUSE", "SPECIES", "Species", "species_of"]


@dataclass(frozen=True)
class Species:
    """The facts that differ between species (see the module docstring)."""

    name: str
    onset_aligned: bool
    """Results count days from each subject's symptom onset (one cohort-wide grid), not age."""
    stops_at_end_stage: bool
    """Every readout is NaN after the end stage, so the engine may stop each subject there."""
    snapshot_every_days: int
    """Days between the per-unit snapshots the electrophysiology is read from."""
    emg_every_days: int | None
    """Default days between electrophysiology recordings on the results' day axis (None: every
    snapshot). People: 84 days, every third snapshot: longitudinal MUNIX studies record every
    3 months (Neuwirth et al. 2015, J Neurol Neurosurg Psychiatry 86:1172, Methods: six muscles
    every 3 months over 15 months), rounded to the 28-day snapshots."""
    events: tuple[str, ...]
    """Per-subject clinical events of the results Dataset."""
    summary_events: tuple[str, ...]
    """Events whose distribution ``summary.json`` reports."""
    packaged_priors: str | None
    """File name of the packaged priors of every hypothesis; ``None``: one file per hypothesis."""
    recording: str
    """Name of the electrophysiology recording setup (:func:`alsim.readouts.emg.simulated.recording_setup`)."""
    end_stage_by_vital_capacity: bool
    """End stage is read from the vital capacity of the respiratory muscles (people), not from limb and
    diaphragm force (mice)."""
    compares_hypotheses: bool
    """The packaged priors hold hypothesis-specific parameters, so ``alsim compare`` can weigh the hypotheses."""


MOUSE = Species(name="mouse", onset_aligned=False, stops_at_end_stage=False, snapshot_every_days=7, emg_every_days=None,
                events=("onset_day", "end_stage_day"), summary_events=("onset_day", "end_stage_day"),
                packaged_priors=None, recording="mouse", end_stage_by_vital_capacity=False, compares_hypotheses=True)
HUMAN = Species(name="human", onset_aligned=True, stops_at_end_stage=True, snapshot_every_days=28, emg_every_days=84,
                events=("onset_sim_day", "diagnosis_day", "ventilation_day", "end_stage_day"),
                summary_events=("onset_sim_day", "diagnosis_day", "ventilation_day", "end_stage_day"),
                packaged_priors="human.toml", recording="human", end_stage_by_vital_capacity=True,
                compares_hypotheses=False)
SPECIES: dict[str, Species] = {s.name: s for s in (MOUSE, HUMAN)}


def species_of(scenario_or_name) -> Species:
    """The :class:`Species` of a scenario (its ``species`` field) or of a species name."""
    name = scenario_or_name if isinstance(scenario_or_name, str) else scenario_or_name.species
    try:
        return SPECIES[name]
    except KeyError:
        raise ValueError(f"species must be one of {', '.join(SPECIES)}, got {name!r}") from None
