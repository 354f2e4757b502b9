"""Results on disk: xarray/Zarr stores and summaries, written atomically."""

from .results import FORMAT_VERSION, OutputExistsError, atomic_output_dir, read_results, summarise, write_results, write_summary

__all__ = ["FORMAT_VERSION", "OutputExistsError", "atomic_output_dir", "read_results", "summarise", "write_results", "write_summary"]
