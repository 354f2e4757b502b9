"""Results on disk: xarray/Zarr stores and summaries written atomically, provenance, the run catalogue."""

from .catalogue import CATALOGUE_FILE, Catalogue, RunEntry, UnknownRunError
from .compare import compare_outputs
from .provenance import PROVENANCE_FILE, RecordedRun, read_provenance, recorded_run, rerun_argv
from .results import FORMAT_VERSION, OutputExistsError, atomic_output_dir, read_results, summarise, write_results, write_summary

__all__ = ["CATALOGUE_FILE", "FORMAT_VERSION", "PROVENANCE_FILE", "Catalogue", "OutputExistsError", "RecordedRun",
           "RunEntry", "UnknownRunError", "atomic_output_dir", "compare_outputs", "read_provenance", "read_results",
           "recorded_run", "rerun_argv", "summarise", "write_results", "write_summary"]
