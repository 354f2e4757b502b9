"""Prior distributions for calibration, one file per hypothesis.

A priors file (TOML; the packaged ones are in ``alsim/inference/priors/``) names its
``hypothesis``, may ``extend`` another file, and gives for each parameter (a dotted path
into the scenario, as for ``alsim run --set``) a uniform range ``low``-``high``, an
optional ``scale = "log"`` (uniform on log10 of the value) and the ``source`` of the range
(a citation, or ``assumed:`` and the reason), as every value of a preset has.

The inference library sees each parameter in its *sampling coordinate*: the value itself,
or log10 of it for log-scaled parameters. Posterior files hold natural units.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..biology.species import HUMAN, species_of
from ..config.loading import ScenarioError
from ..config.schema import HYPOTHESES

__all__ = ["Prior", "PriorSet", "load_priors", "packaged_priors_text"]


@dataclass(frozen=True)
class Prior:
    """A uniform prior on a parameter (or on its log10)."""

    path: str
    low: float
    high: float
    log: bool
    source: str

    @property
    def coordinate_bounds(self) -> tuple[float, float]:
        """Bounds in the sampling coordinate."""
        if self.log:
            return math.log10(self.low), math.log10(self.high)
        return self.low, self.high

    def to_natural(self, coordinate: float) -> float:
        return 10.0 ** coordinate if self.log else coordinate

    def to_coordinate(self, value: float) -> float:
        return math.log10(value) if self.log else value


@dataclass(frozen=True)
class PriorSet:
    hypothesis: str
    priors: tuple[Prior, ...]
    origin: str

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.priors]

    def to_natural(self, coordinates: dict[str, float]) -> dict[str, float]:
        return {p.path: p.to_natural(float(coordinates[p.path])) for p in self.priors}

    def pyabc_distribution(self):
        """The prior as a :class:`pyabc.Distribution` over sampling coordinates."""
        import pyabc

        return pyabc.Distribution(**{
            p.path: pyabc.RV("uniform", lo, hi - lo) for p in self.priors for lo, hi in [p.coordinate_bounds]})


def _read_toml(source: str, text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"priors file {source}: not valid TOML ({error})") from None


def _packaged(name: str) -> str:
    return resources.files("alsim.inference").joinpath("priors", name).read_text(encoding="utf-8")


def packaged_priors_text(hypothesis: str) -> str:
    """The text of the packaged priors file of ``hypothesis``."""
    return _packaged(f"{hypothesis}.toml")


def _parse_prior(source: str, path: str, entry: object) -> Prior:
    where = f"priors file {source}: parameters.\"{path}\""
    if not isinstance(entry, dict):
        raise ScenarioError(f"{where} must be a table with low, high and source")
    unknown = set(entry) - {"low", "high", "scale", "source"}
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: low, high, scale, source")
    try:
        low, high = float(entry["low"]), float(entry["high"])
    except (KeyError, TypeError, ValueError):
        raise ScenarioError(f"{where}: low and high must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ScenarioError(f"{where}: need finite low < high, got low={low:g}, high={high:g}")
    scale = entry.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise ScenarioError(f"{where}: scale must be 'linear' or 'log', got {scale!r}")
    if scale == "log" and low <= 0:
        raise ScenarioError(f"{where}: a log-scaled prior needs low > 0, got {low:g}")
    source = str(entry.get("source", "")).strip()
    if not source:
        raise ScenarioError(f"{where}: every prior needs a source (a citation, or 'assumed: reason')")
    return Prior(path, low, high, scale == "log", source)


def _collect(source: str, text: str, base_dir: Path | None, depth: int = 0) -> tuple[str | None, dict[str, Prior]]:
    if depth > 4:
        raise ScenarioError(f"priors file {source}: 'extends' nests too deeply")
    tree = _read_toml(source, text)
    priors: dict[str, Prior] = {}
    if "extends" in tree:
        parent = str(tree["extends"])
        if base_dir is None:
            parent_text, parent_dir = _packaged(parent), None
        else:
            parent_path = base_dir / parent
            if not parent_path.is_file():
                raise ScenarioError(f"priors file {source}: extends {parent!r}, which does not exist")
            parent_text, parent_dir = parent_path.read_text(encoding="utf-8"), parent_path.parent
        _, priors = _collect(parent, parent_text, parent_dir, depth + 1)
    for path, entry in (tree.get("parameters") or {}).items():
        priors[path] = _parse_prior(source, path, entry)
    return tree.get("hypothesis"), priors


#: The packaged priors of the human presets (any hypothesis).
HUMAN_PRIORS = HUMAN.packaged_priors


def load_priors(hypothesis: str, path: str | Path | None = None, *, species: str = "mouse") -> PriorSet:
    """The priors of ``hypothesis``: the packaged file (the species' own file whatever the
    hypothesis where it has one, :attr:`alsim.biology.species.Species.packaged_priors`:
    ``human.toml`` for people), or the user's file at ``path``."""
    if hypothesis not in HYPOTHESES:
        raise ScenarioError(f"hypothesis must be one of {', '.join(HYPOTHESES)}, got {hypothesis!r}")
    packaged = species_of(species).packaged_priors
    if path is None and packaged is not None:
        origin = f"alsim/inference/priors/{packaged}"
        named, priors = _collect(origin, _packaged(packaged), None)
    elif path is None:
        origin = f"alsim/inference/priors/{hypothesis}.toml"
        named, priors = _collect(origin, packaged_priors_text(hypothesis), None)
    else:
        file = Path(path)
        if not file.is_file():
            raise ScenarioError(f"priors file {file} does not exist")
        origin = str(file)
        named, priors = _collect(origin, file.read_text(encoding="utf-8"), file.parent)
    if named is not None and named != hypothesis:
        raise ScenarioError(f"priors file {origin} is for hypothesis {named!r}, not {hypothesis!r}")
    if not priors:
        raise ScenarioError(f"priors file {origin} defines no parameters")
    return PriorSet(hypothesis, tuple(priors.values()), origin)
