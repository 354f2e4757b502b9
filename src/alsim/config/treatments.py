"""The treatment schema: a treatment is a mechanism, not an outcome.

A :class:`Treatment` says which compartment it acts on, which model rates it scales
(``effects``: the factor on each rate at full dose), how fast it comes on and wears
off, and how far it reaches (every muscle, or only the injected ones). An
:class:`AppliedTreatment` adds what a study chooses: start day, end day and dose.
How the factors enter the model is written out in ``docs/model.md`` (*Treatments*);
the catalogue with its citations is ``alsim/biology/treatments.toml``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

COMPARTMENTS: tuple[str, ...] = (
    "muscle", "endplate", "terminal_schwann_cell", "terminal", "axon", "soma", "upper_motor_neuron",
)

#: Rates a treatment can scale, with where the factor enters (docs/model.md, *Treatments*).
TARGETS: dict[str, str] = {
    "soma_death": "disease terms of the soma death hazard (stress, excitotoxic, starvation; not ageing)",
    "soma_starvation": "starvation term of the soma death hazard (trophic support from outside the unit)",
    "cortical_drive": "excitotoxic cortical drive C onto lower motor neurons",
    "umn_loss": "loss rate of upper motor neurons",
    "stress_production": "production P_u of metabolic stress in the motor unit",
    "transport_decline": "decline of axonal transport per unit stress",
    "axon_dieback": "dieback hazard of an axon that has lost its terminals",
    "retraction": "terminal retraction hazard (stress-driven and baseline)",
    "destabilisation": "muscle-side destabilising signal (the destabilising_gain * S_m term of retraction)",
    "sprouting": "collateral sprouting hazard of a denervated endplate",
    "disassembly": "AChR-cluster decay and disassembly hazard of a denervated endplate",
    "tsc_loss": "loss hazard of terminal Schwann cells at denervated endplates",
}
#: Targets that act on the subject as a whole (the cortex), so cannot be local to a muscle.
SUBJECT_TARGETS: frozenset[str] = frozenset({"cortical_drive", "umn_loss"})

Target = Literal[tuple(TARGETS)]
"""A treatment target: one of the names of :data:`TARGETS` (listed there once)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Treatment(_Strict):
    """A treatment's mechanism: which rates it scales, how strongly, how fast, and where."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="Catalogue name, used as NAME in --treat NAME[@START_DAY][:DOSE].")
    kind: Literal["drug", "gene_therapy", "genetic", "biologic"] = Field(description="drug, gene_therapy, genetic (a knockout, present from conception) or biologic (antibody, protein).")
    compartment: Literal[COMPARTMENTS] = Field(
        description="Where the treatment acts first.")
    mechanism: str = Field(min_length=1, description="The mechanism in plain words.")
    source: str = Field(min_length=1, description="The paper that describes the mechanism.")
    strength_basis: str = Field(min_length=1, description="What set the size of each effect (mechanistic data, never treated-animal outcomes), or 'assumed' with the reason.")
    effects: dict[Target, float] = Field(min_length=1, description="Factor on each target rate at full dose (1 = no effect, 0 = abolished, >1 = increased).")
    reach: Literal["systemic", "local"] = Field(default="systemic", description="systemic: every muscle; local: only the muscles in `muscles` (e.g. intramuscular injection).")
    muscles: tuple[str, ...] = Field(default=(), description="Muscles reached when reach is local.")
    onset_days: float = Field(default=0.0, ge=0.0, le=3650.0, allow_inf_nan=False, description="Time constant (days) with which the effect builds up after the start day (0: at once).")
    offset_days: float = Field(default=0.0, ge=0.0, le=3650.0, allow_inf_nan=False, description="Time constant (days) with which the effect wears off after the end day (0: at once).")

    @model_validator(mode="after")
    def _consistent(self) -> "Treatment":
        for target, factor in self.effects.items():
            if not (0.0 <= factor <= 100.0):
                raise ValueError(f"effects.{target} must be between 0 and 100 (a factor on the rate), got {factor}")
        if self.reach == "local" and not self.muscles:
            raise ValueError("reach 'local' needs at least one muscle in `muscles`")
        if self.reach == "systemic" and self.muscles:
            raise ValueError("`muscles` is only allowed with reach 'local'")
        local_cortex = SUBJECT_TARGETS & set(self.effects) if self.reach == "local" else set()
        if local_cortex:
            raise ValueError(f"effects on {', '.join(sorted(local_cortex))} act on the cortex and need reach 'systemic'")
        return self


class AppliedTreatment(_Strict):
    """A treatment as a study gives it: from ``start_day`` (age, days), at ``dose``, until ``end_day``."""

    label: str = Field(min_length=1, description="The arm or treatment as the user wrote it, e.g. 'musk_agonist@60:0.5'.")
    treatment: Treatment
    start_day: int = Field(ge=0, le=36_500, description="Age (days) at which treatment starts; 0 means from birth.")
    end_day: int | None = Field(default=None, ge=1, le=36_500, description="Age (days) at which treatment stops; none: never.")
    dose: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Dose as a fraction of the maximal effect, 0-1.")

    @model_validator(mode="after")
    def _start_before_end(self) -> "AppliedTreatment":
        if self.end_day is not None and self.end_day <= self.start_day:
            raise ValueError(f"end_day ({self.end_day}) must be after start_day ({self.start_day})")
        if self.treatment.kind == "genetic" and self.start_day != 0:
            raise ValueError(f"{self.treatment.name} is genetic (present from conception): its start day must be 0, got {self.start_day}")
        return self
