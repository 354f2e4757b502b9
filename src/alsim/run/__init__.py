"""The one verb that runs cohorts: every command and analysis calls it.

- :func:`simulate`: a cohort in memory -> its results Dataset (``alsim.simulate``);
- :func:`simulate_census`: a cohort's raw daily census, in blocks, on threads or a Dask
  cluster (trials, sweeps, calibration and benchmarks read their endpoints from it);
- :func:`results_dataset`: the results Dataset of a census;
- :func:`stream`: a cohort streamed block by block to ``results.zarr`` in a work folder,
  resumable after a kill (``alsim run``); :func:`open_run_work` opens that folder;
- :class:`Cohort`: which scenario each subject runs (one for all, or its posterior
  particle's: :class:`alsim.inference.cohort.PosteriorCohort`); :func:`simulate_cohort` runs
  one in memory;
- :func:`clinical_events`, :func:`simulate_human_events`, :func:`summarise`;
- :func:`run_tasks`, :func:`iter_tasks`, :func:`local_scheduler`, :func:`dask_client`:
  independent tasks in this process, on a local cluster or on ``--scheduler``.

The same seed gives the same bits whatever the workers, the blocks or the scheduler.
The engine below simulates one block and writes no files; the store below writes files
and simulates nothing.
"""

from .census import DEFAULT_BLOCK_SIZE, blocks_of, census_block, simulate_census, stream_census_to_zarr
from .cohort import Cohort, block_dataset, simulate_cohort
from .dataset import results_dataset, simulate
from .events import clinical_events
from .human import simulate_human_events
from .streamed import BLOCK_SIZE, open_run_work, run_identity, stream, stream_passes
from .summary import EVENT_STATISTICS, event_day_quantile, median_event_day, summarise
from .tasks import dask_client, iter_tasks, local_scheduler, run_tasks

__all__ = ["BLOCK_SIZE", "DEFAULT_BLOCK_SIZE", "Cohort", "block_dataset", "blocks_of", "census_block",
           "clinical_events", "dask_client", "iter_tasks", "local_scheduler", "median_event_day", "open_run_work",
           "EVENT_STATISTICS", "event_day_quantile",
           "results_dataset", "run_identity", "run_tasks", "simulate", "simulate_census", "simulate_cohort", "simulate_human_events",
           "stream", "stream_census_to_zarr", "stream_passes", "summarise"]
