"""The scenario schema: every parameter of the model, validated at construction.

Each field's docstring (``description``) says its unit and its biology. The rules that
use them are written out in ``docs/model.md``. Values come from the presets in
``alsim/config/presets/`` where each one cites its source.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .human import HumanClinical, Region, Spread
from .treatments import AppliedTreatment

UNIT_TYPES: tuple[str, ...] = ("S", "FR", "FF")
HYPOTHESES: tuple[str, ...] = ("dying_back", "dying_forward", "independent")

Rate = float


def _rate(description: str, *, le: float | None = None) -> object:
    return Field(ge=0.0, le=le, allow_inf_nan=False, description=description)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class UnitType(_Strict):
    """Properties of one motor-unit type (S, FR or FF)."""

    vulnerability: float = _rate("Intrinsic vulnerability to the disease burden (relative; multiplies stress production and excitotoxic soma death).")
    activity: float = _rate("Daily activity (duty cycle, relative): stress production grows with it.")
    sprouting_competence: float = _rate("Relative ability to send collateral sprouts to denervated endplates.")
    max_enlargement: float = Field(ge=1.0, le=20.0, allow_inf_nan=False, description="Largest size a unit can reach by sprouting, as a multiple of its baseline size.")
    innervation_ratio_relative: float = Field(gt=0.0, allow_inf_nan=False, description="Baseline number of fibres per unit, relative to the other types of the same muscle.")
    fibre_specific_force: float = Field(gt=0.0, allow_inf_nan=False, description="Force of one fibre of this type at normal cross-section (relative).")


class Muscle(_Strict):
    """One muscle: its motor-unit pool and fibres."""

    region: Region = Field(description="Body region; in mice, hindlimb muscles make the hindlimb force used for onset and end "
                                       "stage; in people the regions are bulbar, cervical, respiratory, thoracic and lumbar.")
    n_motor_units: int = Field(ge=1, le=100_000, description="Number of motor units (motor neurons) supplying the muscle.")
    n_fibres: int = Field(ge=1, le=10_000_000, description="Number of muscle fibres, one endplate each.")
    fraction_S: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Fraction of motor units of type S.")
    fraction_FR: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Fraction of motor units of type FR.")
    fraction_FF: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Fraction of motor units of type FF.")
    axon_length_mm: float = Field(gt=0.0, le=2000.0, allow_inf_nan=False, description="Length of the motor axons from spinal cord to muscle, mm.")

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> "Muscle":
        total = self.fraction_S + self.fraction_FR + self.fraction_FF
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"fraction_S + fraction_FR + fraction_FF must be 1, got {total:g}")
        if self.n_fibres < self.n_motor_units:
            raise ValueError(f"n_fibres ({self.n_fibres}) must be at least n_motor_units ({self.n_motor_units})")
        return self


class Disease(_Strict):
    """The toxic burden of the mutant protein, D(t) = b (t / scale) ** exponent."""

    burden_multiplier: float = _rate("Burden of the genotype (0 for wild type; 1 for the reference transgenic line).")
    # At least a day: D(t) = b (t / scale) ** exponent overflows a float for tiny scales
    # (1e-300 crashed the engine), and a burden that reaches 1 within hours of birth means nothing.
    burden_scale_days: float = Field(ge=1.0, le=1_000_000.0, allow_inf_nan=False, description="Age (days) at which a typical subject's burden reaches 1.")
    burden_exponent: float = Field(ge=0.0, le=20.0, allow_inf_nan=False, description="How steeply the burden grows with age (dimensionless).")


class Variability(_Strict):
    """Differences between animals: transgene copy number, sex and litter."""

    copy_number_log_sd: float = Field(ge=0.0, le=2.0, allow_inf_nan=False, description="SD of log burden across animals (copy-number variation).")
    litter_log_sd: float = Field(ge=0.0, le=2.0, allow_inf_nan=False, description="SD of log burden shared by littermates.")
    litter_size: int = Field(ge=1, le=30, description="Animals per litter in a cohort.")
    female_fraction: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Probability that an animal is female.")
    male_burden_ratio: float = Field(gt=0.0, le=10.0, allow_inf_nan=False, description="Burden of males relative to females.")


class Hypothesis(_Strict):
    """Where the primary damage lands: terminal (dying-back) or soma and cortex (dying-forward)."""

    name: Literal[HYPOTHESES] = Field(description="dying_back, dying_forward or independent (both, weighted).")
    independent_back_weight: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Under 'independent', the weight of the dying-back pathway (the dying-forward pathway gets 1 minus it).")

    @property
    def weights(self) -> tuple[float, float]:
        """(w_back, w_forward)."""
        if self.name == "dying_back":
            return 1.0, 0.0
        if self.name == "dying_forward":
            return 0.0, 1.0
        return self.independent_back_weight, 1.0 - self.independent_back_weight


class UpperMotorNeuron(_Strict):
    """Cortical motor neurons and their excitotoxic drive onto lower motor neurons."""

    hyperexcitability_gain: float = _rate("Cortical drive onto lower motor neurons per unit burden (dimensionless).")
    loss_per_burden_day: float = _rate("Upper-motor-neuron loss per day per unit burden (dying-forward pathway).")


class Rates(_Strict):
    """Rates of the motor-unit and endplate processes, per day unless named otherwise."""

    stress_time_constant_days: float = Field(gt=0.0, le=1000.0, allow_inf_nan=False, description="Time constant (days) of relaxation of metabolic stress.")
    stress_size_exponent: float = Field(ge=0.0, le=5.0, allow_inf_nan=False, description="Stress production grows as (unit size / mean baseline size) ** exponent.")
    transport_decline_per_stress: float = _rate("Loss of axonal transport capacity per day per unit stress, at the reference axon length.")
    transport_recovery: float = _rate("Recovery of transport capacity per day.")
    reference_axon_length_mm: float = Field(gt=0.0, allow_inf_nan=False, description="Axon length (mm) at which transport decline has its nominal rate.")
    terminal_retraction_per_stress: float = _rate("Terminal retraction hazard per day per unit stress (dying-back pathway).")
    terminal_retraction_baseline: float = _rate("Terminal retraction hazard per day in health (normal remodelling).")
    terminal_expansion: float = _rate("Hazard per day that a partial terminal or sprout covers the whole endplate (at full transport).")
    wallerian_terminal: float = _rate("Hazard per day that a terminal of a degenerated axon is lost.")
    wallerian_axon: float = _rate("Hazard per day that the axon of a dead soma degenerates.")
    axon_dieback: float = _rate("Hazard per day that an axon which has lost all its terminals degenerates.")
    soma_stress_death: float = _rate("Soma death hazard per day per unit stress (dying-forward pathway).")
    soma_excitotoxic_death: float = _rate("Soma death hazard per day per unit cortical drive (dying-forward pathway).")
    soma_starvation_death: float = _rate("Soma death hazard per day with no trophic support at all.")
    soma_ageing_death: float = _rate("Soma death hazard per day in health (normal ageing).")
    sprouting: float = _rate("Hazard per day that a denervated endplate with a reactive Schwann cell attracts a sprout.")
    agrin_maintenance: float = _rate("Recovery rate per day of AChR-cluster stability under a full terminal.")
    achr_decay: float = _rate("Decay rate per day of AChR-cluster stability at a denervated endplate.")
    endplate_disassembly: float = _rate("Disassembly hazard per day of a denervated endplate with no AChR-cluster stability.")
    fibre_atrophy: float = _rate("Rate per day of cross-section loss of a denervated fibre.")
    fibre_regrowth: float = _rate("Rate per day of cross-section recovery of an innervated fibre.")
    fibre_csa_floor: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Cross-section a denervated fibre atrophies towards (fraction of normal).")
    fibre_type_conversion: float = _rate("Hazard per day that a fibre takes the type of the unit that innervates it.")


class TerminalSchwannCells(_Strict):
    """Terminal Schwann cells: activation by denervation and guidance of sprouts."""

    activation: float = _rate("Hazard per day that a quiescent cell becomes reactive at a partly or fully denervated endplate.")
    quiescence: float = _rate("Hazard per day that a reactive cell returns to quiescence at a fully innervated endplate.")
    loss_per_burden: float = _rate("Hazard per day per unit burden that the cell is lost at a denervated endplate.")
    guidance_quiescent: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Sprout guidance of a quiescent cell, relative to a reactive one.")
    guidance_lost: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Sprout guidance when the cell is lost, relative to a reactive one.")


class MuscleFeedback(_Strict):
    """Denervation-induced gene and protein expression in muscle, feeding back on the nerve."""

    expression_time_constant_days: float = Field(gt=0.0, le=1000.0, allow_inf_nan=False, description="Time constant (days) with which expression follows the denervated fraction.")
    destabilising_gain: float = _rate("Increase of terminal retraction per unit expression (destabilising signals).")
    sprouting_signal_gain: float = _rate("Increase of sprouting per unit expression (trophic signals).")


CLOCKS: tuple[str, ...] = ("power", "two_phase")
SOMA_SURVIVALS: tuple[str, ...] = ("starvation", "orphan")
SPROUTINGS: tuple[str, ...] = ("healthy", "stress_limited")


class Structure(_Strict):
    """Structural alternatives of the model, settings beside the hypotheses (docs/model.md,
    *Structural alternatives*). Each default is the original structure; the parameters of a
    setting are read only under that setting. Sources and priors: docs/model_fit.md, *Proposal*."""

    clock: Literal[CLOCKS] = Field(default="power", description="Disease clock: 'power' (D(t) only) or 'two_phase' (an early, "
                                   "terminal-only burden D_e(t) added to D(t) in terminal retraction and Schwann-cell loss).")
    early_burden_start_day: float = Field(default=21.0, ge=0.0, le=36_500.0, allow_inf_nan=False,
                                          description="two_phase: age t_e (days) at which the early terminal burden starts.")
    early_burden_time_constant_days: float = Field(default=10.0, ge=0.1, le=36_500.0, allow_inf_nan=False,
                                                   description="two_phase: time constant tau_e (days) with which the early burden rises to its plateau.")
    early_burden_amplitude: float = Field(default=0.5, ge=0.0, le=1000.0, allow_inf_nan=False,
                                          description="two_phase: plateau A_e of the early burden per unit burden multiplier b (dimensionless, the units of D).")
    soma_survival: Literal[SOMA_SURVIVALS] = Field(default="starvation", description="Soma death after terminal loss: "
                                                   "'starvation' (rates.soma_starvation_death (1 - T min(1, n/n0))) or 'orphan' "
                                                   "(a hazard only after complete target loss, in a vulnerable fraction of units).")
    orphan_death: float = Field(default=0.02, ge=0.0, le=100.0, allow_inf_nan=False,
                                description="orphan: soma death hazard per day of a vulnerable unit with no terminal (n_u = 0) or no intact axon.")
    resilient_fraction: float = Field(default=0.5, ge=0.0, le=1.0, allow_inf_nan=False,
                                      description="orphan: fraction of units (drawn per unit at birth) whose soma survives target loss.")
    sprouting: Literal[SPROUTINGS] = Field(default="healthy", description="Donor weight of collateral sprouting: 'healthy' "
                                           "(competence T cap) or 'stress_limited' (times exp(-M_v / sprouting_stress_scale)).")
    sprouting_stress_scale: float = Field(default=2.0, gt=0.0, le=1e6, allow_inf_nan=False,
                                          description="stress_limited: metabolic stress m_s (units of M) at which a donor's sprouting weight falls by 1/e.")


class Neuromuscular(_Strict):
    """Transmission at the endplate."""

    partial_transmission: float = Field(ge=0.0, le=1.0, allow_inf_nan=False, description="Force a partially innervated fibre produces, relative to a fully innervated one.")


class Clinical(_Strict):
    """How onset and end stage are read from simulated force."""

    onset_force_fraction: float = Field(gt=0.0, lt=1.0, allow_inf_nan=False, description="Onset: first day hindlimb force falls below this fraction of the animal's baseline.")
    end_stage_hindlimb_force_fraction: float = Field(ge=0.0, lt=1.0, allow_inf_nan=False, description="End stage: hindlimb force below this fraction (hindlimb paralysis).")
    end_stage_diaphragm_force_fraction: float = Field(ge=0.0, lt=1.0, allow_inf_nan=False, description="End stage: diaphragm force below this fraction (respiratory failure).")


class Scenario(_Strict):
    """A complete, validated description of what to simulate."""

    name: str = Field(min_length=1, description="Name of the scenario (a preset name, or the user's).")
    description: str = Field(default="", description="One line saying what the scenario is.")
    species: Literal["mouse", "human"] = Field(description="Species.")
    strain: str = Field(description="Strain or population, as the training data names it (B6SJL, C57BL6, ...).")
    genotype: str = Field(description="Genotype, e.g. SOD1-G93A or wild type.")
    horizon_days: int = Field(ge=1, le=36_500, description="Default number of days to simulate.")
    hypothesis: Hypothesis
    disease: Disease
    variability: Variability
    unit_types: dict[Literal[UNIT_TYPES], UnitType]
    muscles: dict[str, Muscle] = Field(min_length=1)
    upper_motor_neuron: UpperMotorNeuron
    rates: Rates
    terminal_schwann_cells: TerminalSchwannCells
    muscle_feedback: MuscleFeedback
    neuromuscular: Neuromuscular
    clinical: Clinical
    structure: Structure = Field(default_factory=Structure, description="Structural alternatives (clock, soma survival, "
                                 "sprouting); the defaults are the original structure.")
    treatments: tuple[AppliedTreatment, ...] = Field(default=(), description="Treatments given to every subject (see alsim.biology.interventions).")
    spread: Spread | None = Field(default=None, description="Focal onset and spread between regions (human presets); none: every muscle carries the burden from day 0.")
    human: HumanClinical | None = Field(default=None, description="Clinical readouts of the human disease (ALSFRS-R, FVC, diagnosis); required for species 'human'.")

    @model_validator(mode="after")
    def _all_unit_types(self) -> "Scenario":
        missing = [k for k in UNIT_TYPES if k not in self.unit_types]
        if missing:
            raise ValueError(f"unit_types must define S, FR and FF; missing {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _treated_muscles_exist(self) -> "Scenario":
        for applied in self.treatments:
            unknown = [m for m in applied.treatment.muscles if m not in self.muscles]
            if unknown:
                raise ValueError(f"treatment {applied.treatment.name} reaches muscle(s) {', '.join(unknown)} "
                                 f"that the scenario does not have; allowed: {', '.join(self.muscles)}")
        return self

    @model_validator(mode="after")
    def _human_sections(self) -> "Scenario":
        if self.species == "human" and (self.human is None or self.spread is None):
            raise ValueError("a human scenario needs the sections [spread] and [human] (see the human-sals-limb preset)")
        regions = {m.region for m in self.muscles.values()}
        if self.spread is not None:
            for onset, row in self.spread.median_delay_days.items():
                lacking = sorted(r for r in regions if r != onset and r not in row)
                if lacking:
                    raise ValueError(f"spread.median_delay_days.{onset} lacks the region(s) {', '.join(lacking)}; "
                                     f"give a delay for every region with muscles ({', '.join(sorted(regions))})")
        if self.human is not None:
            named = {**{f"human.fvc_muscle_weights": tuple(self.human.fvc_muscle_weights)},
                     **{f"human.functional_rating.items.{k}": v for k, v in self.human.functional_rating.items.items()}}
            for field, muscles in named.items():
                unknown = [m for m in muscles if m not in self.muscles]
                if unknown or not muscles:
                    raise ValueError(f"{field} names muscle(s) {', '.join(unknown) or '(none)'}; "
                                     f"allowed: {', '.join(self.muscles)}")
            for field in ("onset_regions", "diagnostic_regions"):
                absent = [r for r in getattr(self.human, field) if r not in regions]
                if absent:
                    raise ValueError(f"human.{field} names region(s) {', '.join(absent)} with no muscle; "
                                     f"regions with muscles: {', '.join(sorted(regions))}")
        return self

    @property
    def muscle_names(self) -> list[str]:
        return list(self.muscles)
