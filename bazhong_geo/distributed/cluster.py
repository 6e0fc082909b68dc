"""Dask clusters for bazhong_geo's distributed runs: a local cluster, a client from CLI options, task running.

Dask is optional: nothing here imports it until a distributed run is asked for, and then a missing install
is a :class:`~bazhong_geo._errors.DaskNotInstalledError` naming ``pip install "bazhong_geo[dask]"``.

Memory per worker: every task of this package reads one tile (or one county's sub-network). A zonal tile task
holds at most :data:`TASK_MEMORY_BYTES` (the zonal engine's strip prefetch, 96 MB, plus its 64 MB GDAL cache, plus
one tile's zone coverage); a DEGURBA task holds its tile as float64 plus masks (≈ 0.6 GB at 4,096²). Workers run
one task per process (``threads_per_worker=1``), so a worker needs ``memory_limit`` of at least 1 GB for zonal runs
(the default here, 2 GB, leaves room for DEGURBA tiles of 4,096²).

>>> DEFAULT_MEMORY_LIMIT
'2GB'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._errors import DaskNotInstalledError

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "TASK_MEMORY_BYTES",
    "client_from_options",
    "close_client",
    "local_cluster",
    "require_dask",
    "run_tasks",
]

DEFAULT_MEMORY_LIMIT = "2GB"
"""Memory limit of each worker of :func:`local_cluster` (dask pauses a worker at 80 %, restarts it at 95 %)."""

TASK_MEMORY_BYTES = 512 * 2**20
"""Upper bound of one zonal tile task's own memory for tiles up to 4,096² cells (strips 96 MB ahead, GDAL cache 64 MB,
the tile's zone coverage and summaries), on top of a worker's ≈ 250 MB Python/GDAL baseline;
``benchmarks/bench_dask.py`` measured 260–275 MB peak per worker with 3,000 zones over 1.07 bn cells."""


def require_dask() -> Any:
    """Import and return ``dask.distributed``, or raise DaskNotInstalledError with the install command."""
    try:
        import dask  # noqa: F401  (checked together with distributed)
        import distributed
    except ImportError as exc:
        raise DaskNotInstalledError(
            f"distributed runs need dask and distributed ({exc}); install them with "
            f'pip install "bazhong_geo[dask]" (or pip install "dask[distributed]")') from None
    return distributed


def local_cluster(workers: int = 2, memory_limit: str | int = DEFAULT_MEMORY_LIMIT, *, processes: bool = True,
                  dashboard: bool = False) -> Any:
    """Start a Dask ``LocalCluster`` on this machine and return a ``Client`` connected to it.

    Parameters
    ----------
    workers : int
        Worker processes (one thread each: the zonal engine's arithmetic holds the GIL, so processes scale
        and threads do not).
    memory_limit : str or int
        Memory limit per worker (e.g. ``"2GB"``); see the module docstring for what a task needs.
    processes : bool
        Processes (default) or threads in one process.
    dashboard : bool
        Serve the dashboard (on port 8787 or the next free one); off by default.

    Returns
    -------
    distributed.Client
        Close it with ``client.close(); client.cluster.close()`` (or use it as a context manager).

    Examples
    --------
    >>> client = local_cluster(workers=2, memory_limit="1GB")    # doctest: +SKIP
    """
    distributed = require_dask()
    if int(workers) < 1:
        raise ValueError(f"workers must be at least 1, got {workers!r}")
    import dask

    # the statistical profiler samples every thread's stack every 10 ms while holding the GIL: off unless the
    # dashboard (which shows it) is asked for
    with dask.config.set({"distributed.worker.profile.enabled": bool(dashboard)}):
        cluster = distributed.LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=processes,
                                           memory_limit=memory_limit,
                                           dashboard_address=":8787" if dashboard else None)
    return distributed.Client(cluster)


def client_from_options(workers: int | None = None, scheduler: str | None = None, *,
                        memory_limit: str | int = DEFAULT_MEMORY_LIMIT) -> Any | None:
    """The Dask client the CLI options ask for: None (single process), a local cluster, or a remote scheduler.

    Parameters
    ----------
    workers : int, optional
        ``--workers N``: start a local cluster of N worker processes.
    scheduler : str, optional
        ``--scheduler ADDRESS``: connect to a running scheduler (``tcp://host:8786``, a dask-gateway or
        dask-jobqueue cluster's ``scheduler_address``); wins over ``workers``.
    memory_limit : str or int
        Memory per worker of a local cluster.

    Returns
    -------
    distributed.Client or None
        None when neither option is given (the single-process path).

    Examples
    --------
    >>> client_from_options() is None
    True
    """
    if scheduler:
        return require_dask().Client(scheduler)
    if workers:
        return local_cluster(int(workers), memory_limit)
    return None


def run_tasks(client: Any, func: Callable, items: Sequence, *args: Any, progress: bool = True,
              desc: str = "tasks", **kwargs: Any) -> list:
    """``[func(item, *args, **kwargs) for item in items]``, on the cluster when ``client`` is given.

    Results come back in the order of ``items``. With ``progress``, a tqdm bar (on stderr) counts finished
    tasks; with ``client=None`` the tasks run here, one after the other (the single-process path).
    Shared arguments are scattered once (broadcast to every worker) rather than sent with every task.
    """
    from tqdm.auto import tqdm

    items = list(items)
    bar = tqdm(total=len(items), desc=desc, unit="task", disable=not progress)
    try:
        if client is None:
            out = []
            for it in items:
                out.append(func(it, *args, **kwargs))
                bar.update(1)
            return out
        distributed = require_dask()
        shared = [client.scatter(a, broadcast=True) if _worth_scattering(a) else a for a in args]
        futures = client.map(func, items, *[[s] * len(items) for s in shared], pure=False, **kwargs)
        for _ in distributed.as_completed(futures):
            bar.update(1)
        return client.gather(futures)
    finally:
        bar.close()


def _worth_scattering(obj: Any) -> bool:
    return not isinstance(obj, (str, int, float, bool, type(None), tuple)) or (
        isinstance(obj, tuple) and len(obj) > 16)


def close_client(client: Any) -> None:
    """Close a client made by :func:`client_from_options` / :func:`local_cluster` (and its local cluster)."""
    if client is None:
        return
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None and type(cluster).__name__ == "LocalCluster":
        cluster.close()
