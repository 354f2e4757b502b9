"""Results on disk, pure I/O: xarray/Zarr stores written atomically (whole or block by block),
provenance, the run catalogue, work folders of resumable commands and clear messages for disk
faults. Nothing here simulates: running cohorts is :mod:`alsim.run`'s."""

from .catalogue import CATALOGUE_FILE, Catalogue, RunEntry, UnknownRunError
from .compare import compare_outputs
from .faults import StoreFault, disk_faults, probe_output
from .provenance import PROVENANCE_FILE, RecordedRun, read_provenance, recorded_run, rerun_argv
from .results import FORMAT_VERSION, OutputExistsError, atomic_output_dir, read_results, write_results, write_summary
from .workfolder import ResumeError, WorkFolder, in_progress_folder, lock_work_folder, open_work_folder, unlock_work_folder

__all__ = ["CATALOGUE_FILE", "FORMAT_VERSION", "PROVENANCE_FILE", "Catalogue", "OutputExistsError", "RecordedRun",
           "ResumeError", "RunEntry", "StoreFault", "UnknownRunError", "WorkFolder", "atomic_output_dir",
           "compare_outputs", "disk_faults", "in_progress_folder", "lock_work_folder", "open_work_folder", "probe_output",
           "read_provenance", "read_results", "recorded_run", "rerun_argv", "unlock_work_folder", "write_results",
           "write_summary"]
