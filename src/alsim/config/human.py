"""Schema sections for the human disease: focal onset, spread, ALSFRS-R, vital capacity.

A human scenario has body regions (bulbar, cervical, respiratory, thoracic, lumbar), each
with its muscles. The disease starts in one region (drawn per subject) and reaches the
others after delays (:class:`Spread`); weakness, the ALSFRS-R and forced vital capacity
are read from the regions' force (:class:`HumanClinical`). docs/human.md writes the rules
out; the presets ``human-sals-limb`` and ``human-sals-bulbar`` cite their values.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Region = Literal["hindlimb", "respiratory", "forelimb", "bulbar", "cervical", "thoracic", "lumbar"]
REGIONS: tuple[str, ...] = ("hindlimb", "respiratory", "forelimb", "bulbar", "cervical", "thoracic", "lumbar")

ALSFRS_R_ITEMS: tuple[str, ...] = (
    "speech", "salivation", "swallowing",                       # bulbar domain
    "handwriting", "cutting_food", "dressing_and_hygiene",       # fine motor
    "turning_in_bed", "walking", "climbing_stairs",              # gross motor
    "dyspnea", "orthopnea", "respiratory_insufficiency",         # respiratory
)
"""The twelve items of the ALSFRS-R, each scored 0-4 (Cedarbaum et al. 1999 J Neurol Sci 169:13)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Spread(_Strict):
    """Focal onset and spread: the burden starts in one region and reaches the others later.

    A subject's onset region is drawn from ``onset_region_probabilities``; region ``r``
    then carries the burden ``D(t - delay_r)`` (zero before the delay), with
    ``delay_r = median_delay_days[onset][r] * exp(delay_log_sd * z_r)``, one standard
    normal ``z_r`` per subject and region. The onset region has no delay.
    """

    onset_region_probabilities: dict[Region, float] = Field(
        min_length=1, description="Probability that the disease starts in each region (sums to 1).")
    median_delay_days: dict[Region, dict[Region, float]] = Field(
        description="For each onset region, the median delay (days) before each other region carries the burden.")
    delay_log_sd: float = Field(ge=0.0, le=3.0, allow_inf_nan=False,
                                description="SD of the log delay across subjects (dimensionless).")

    @model_validator(mode="after")
    def _consistent(self) -> "Spread":
        total = sum(self.onset_region_probabilities.values())
        if any(p < 0 for p in self.onset_region_probabilities.values()) or abs(total - 1.0) > 1e-6:
            raise ValueError(f"onset_region_probabilities must be non-negative and sum to 1, got {total:g}")
        for onset, p in self.onset_region_probabilities.items():
            if p > 0 and onset not in self.median_delay_days:
                raise ValueError(f"median_delay_days has no row for onset region '{onset}'")
        for onset, row in self.median_delay_days.items():
            for region, delay in row.items():
                if not (0.0 <= delay <= 36_500.0):
                    raise ValueError(f"median_delay_days.{onset}.{region} must be in [0, 36500] days, got {delay!r}")
        return self


class FunctionalRating(_Strict):
    """An ALSFRS-R-like score from the force of the muscles each item depends on.

    Item function is the mean, over its muscles, of force relative to the subject's own
    day-0 force. An item scores 4 at or above ``full_score_force_fraction``, 0 at or below
    ``zero_score_force_fraction``, and in between the number of quarter-bands of that
    range that function still reaches (``ceil(4 (f - f0) / (f1 - f0))``).
    """

    items: dict[str, tuple[str, ...]] = Field(description="Muscles each ALSFRS-R item depends on (all twelve items).")
    full_score_force_fraction: float = Field(gt=0.0, le=1.0, allow_inf_nan=False,
                                             description="Item function (fraction of baseline force) at and above which an item scores 4.")
    zero_score_force_fraction: float = Field(ge=0.0, lt=1.0, allow_inf_nan=False,
                                             description="Item function at and below which an item scores 0.")
    ventilation_items: tuple[str, ...] = Field(
        default=(), description="Items scored from ventilatory support instead of muscle force: 4 until FVC falls below "
                                "human.ventilation_fvc_fraction (ventilation starts), 0 at human.end_stage_fvc_fraction "
                                "(permanent ventilation), 3-1 in thirds between (Cedarbaum 1999 item 12).")

    @model_validator(mode="after")
    def _items(self) -> "FunctionalRating":
        missing = [i for i in ALSFRS_R_ITEMS if i not in self.items]
        unknown = [i for i in self.items if i not in ALSFRS_R_ITEMS]
        if missing or unknown:
            raise ValueError(f"items must be exactly the twelve ALSFRS-R items ({', '.join(ALSFRS_R_ITEMS)}); "
                             f"missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}")
        strange = [i for i in self.ventilation_items if i not in ALSFRS_R_ITEMS]
        if strange:
            raise ValueError(f"ventilation_items must be ALSFRS-R items ({', '.join(ALSFRS_R_ITEMS)}); "
                             f"unknown: {', '.join(strange)}")
        if self.zero_score_force_fraction >= self.full_score_force_fraction:
            raise ValueError("zero_score_force_fraction must be below full_score_force_fraction")
        return self


class HumanClinical(_Strict):
    """Symptom onset, diagnosis, ventilation and death, read from regional function."""

    onset_regions: tuple[Region, ...] = Field(min_length=1, description="Regions whose weakness counts as symptom onset.")
    weakness_force_fraction: float = Field(gt=0.0, lt=1.0, allow_inf_nan=False,
                                           description="A region is clinically weak when its function falls below this fraction of baseline force.")
    diagnostic_regions: tuple[Region, ...] = Field(min_length=1, description="The regions the diagnostic criteria count (El Escorial: bulbar, cervical, thoracic, lumbosacral).")
    diagnosis_regions: int = Field(ge=1, le=7, description="Diagnosis: the first day this many of diagnostic_regions are clinically weak.")
    fvc_muscle_weights: dict[str, float] = Field(min_length=1, description="Forced vital capacity: weighted mean of these muscles' force fractions.")
    ventilation_fvc_fraction: float = Field(gt=0.0, lt=1.0, allow_inf_nan=False,
                                            description="Non-invasive ventilation starts when FVC falls below this fraction of predicted.")
    end_stage_fvc_fraction: float = Field(ge=0.0, lt=1.0, allow_inf_nan=False,
                                          description="Death or permanent ventilation when FVC falls below this fraction.")
    functional_rating: FunctionalRating

    @model_validator(mode="after")
    def _weights(self) -> "HumanClinical":
        if any(w < 0 for w in self.fvc_muscle_weights.values()) or sum(self.fvc_muscle_weights.values()) <= 0:
            raise ValueError("fvc_muscle_weights must be non-negative with a positive sum")
        if self.diagnosis_regions > len(self.diagnostic_regions):
            raise ValueError(f"diagnosis_regions ({self.diagnosis_regions}) cannot exceed the number of diagnostic_regions "
                             f"({len(self.diagnostic_regions)})")
        return self
