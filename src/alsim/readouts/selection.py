"""Which readouts a run computes: the lab and clinical readouts always, the electrophysiology on request.

The lab readouts (census fractions) and the clinical ones (onset, end stage) cost almost
nothing and the end stage masks every other readout, so they are always computed. The
electrophysiology (CMAP, MUNE, MUNIX, MUSIX; :mod:`alsim.readouts.emg.simulated`) costs
more than the simulation itself, so commands whose endpoints do not use it (trials,
windows, sweeps, calibration) leave it out, and ``alsim run --readouts`` chooses, with
the muscles recorded and the spacing of the recording days as settings. A recording not
made is NaN in the results, and the Dataset's attributes say what was computed
(:meth:`ReadoutSelection.attrs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

READOUT_GROUPS: tuple[str, ...] = ("lab", "clinical", "emg")
"""The readout groups of a results Dataset, in the order ``--readouts`` lists them."""
ALWAYS: tuple[str, ...] = ("lab", "clinical")


@dataclass(frozen=True)
class ReadoutSelection:
    """What a run computes beyond the lab and clinical readouts.

    emg: whether the electrophysiology readouts are computed at all.
    emg_muscles: the muscles recorded (None: every muscle); the others are NaN.
    emg_every_days: days between recordings on the results' day axis, a multiple of the days
      between the unit snapshots the engine keeps (:func:`alsim.engine.census.snapshot_interval`:
      7 in mice, 28 in people). In mice, the snapshot ages that are multiples of it, and the last
      day; in people, the days from each person's onset that are multiples of it. None (default):
      the species' cadence (:attr:`alsim.biology.species.Species.emg_every_days`): every snapshot
      in mice, every 84 days (3 months of clinical follow-up) in people.
    """

    emg: bool = True
    emg_muscles: tuple[str, ...] | None = None
    emg_every_days: int | None = None

    def __post_init__(self):
        if self.emg_every_days is not None and self.emg_every_days < 1:
            raise ValueError(f"emg_every_days must be a positive number of days, got {self.emg_every_days}")

    @classmethod
    def parse(cls, groups: str, *, emg_muscles: str | None = None, emg_every_days: int | None = None
              ) -> "ReadoutSelection":
        """From ``--readouts`` (a comma list of :data:`READOUT_GROUPS`, lab and clinical required),
        ``--emg-muscles`` (a comma list, or None for all) and ``--emg-every`` (days)."""
        names = [g.strip() for g in groups.split(",") if g.strip()]
        unknown = [g for g in names if g not in READOUT_GROUPS]
        if unknown:
            raise ValueError(f"--readouts: unknown group(s) {', '.join(unknown)}; allowed: {', '.join(READOUT_GROUPS)}")
        missing = [g for g in ALWAYS if g not in names]
        if missing:
            raise ValueError(f"--readouts must include {' and '.join(ALWAYS)} (the end stage masks every readout); "
                             f"got {groups!r}")
        muscles = None if emg_muscles is None else tuple(m.strip() for m in emg_muscles.split(",") if m.strip())
        return cls(emg="emg" in names, emg_muscles=muscles, emg_every_days=emg_every_days)

    def check_muscles(self, muscle_names: Sequence[str]) -> None:
        """ValueError naming the unknown muscles and the scenario's own."""
        unknown = [m for m in self.emg_muscles or () if m not in muscle_names]
        if unknown:
            raise ValueError(f"emg_muscles: unknown muscle(s) {', '.join(unknown)}; "
                             f"this scenario's muscles: {', '.join(muscle_names)}")

    def cadence(self, species) -> int | None:
        """Days between recordings for ``species`` (a :class:`alsim.biology.species.Species`):
        ``emg_every_days`` or the species' default; None: every snapshot. ValueError naming the
        field unless it is a multiple of the species' days between unit snapshots."""
        every = species.emg_every_days if self.emg_every_days is None else self.emg_every_days
        step = species.snapshot_every_days
        if every is not None and every % step:
            raise ValueError(f"emg_every_days (--emg-every) must be a multiple of {step} days in {species.name} runs "
                             f"(the days between the unit snapshots recordings are made from), got {every}")
        return every

    def recorded(self, muscle_names: Sequence[str], snapshot_day: np.ndarray, *, by_day: bool = True) -> np.ndarray:
        """(muscle, snapshot) bool: which recordings are made; ``by_day=False``: every snapshot
        of the chosen muscles (people, whose days are chosen per person from their onset)."""
        self.check_muscles(muscle_names)
        days = np.asarray(snapshot_day)
        every = (self.emg_every_days or 1) if by_day else 1
        on_day = (days % every == 0) | (np.arange(len(days)) == len(days) - 1)
        muscles = np.array([self.emg_muscles is None or m in self.emg_muscles for m in muscle_names])
        return muscles[:, None] & on_day[None, :] & self.emg

    @property
    def groups(self) -> tuple[str, ...]:
        return (*ALWAYS, "emg") if self.emg else ALWAYS

    def attrs(self, muscle_names: Sequence[str], *, from_onset_every: int | None = None) -> dict[str, str | int]:
        """The results Dataset's record of what was computed; ``from_onset_every``: the days
        between a person's recordings, counted from their onset (people)."""
        out: dict[str, str | int] = {"readouts": ",".join(self.groups)}
        if self.emg:
            out["emg_muscles"] = ",".join(self.emg_muscles or muscle_names)
            if from_onset_every is not None:
                out["emg_days"] = f"every {from_onset_every} days from each person's onset"
            else:
                out["emg_days"] = ("every snapshot day" if self.emg_every_days is None else
                                   f"snapshot days that are multiples of {self.emg_every_days}, and the last")
        return out

    @property
    def is_default(self) -> bool:
        return self == ReadoutSelection()

    def identity(self) -> dict:
        """What a resumed run must share (empty for the default, so that older work folders still resume)."""
        if self.is_default:
            return {}
        return {"readouts": ",".join(self.groups), "emg_muscles": list(self.emg_muscles or ()),
                "emg_every_days": self.emg_every_days}


ALL = ReadoutSelection()
NO_EMG = ReadoutSelection(emg=False)
