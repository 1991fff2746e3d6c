"""Where a fleet's per-plan work runs: in this process (the default), or on Dask workers.

Both have the same three coroutines, so the driver does not know which it has. Dask is an
optional extra (`pip install plan-crosswalk[dask]`): `--workers N` starts a LocalCluster of N
single-threaded worker processes on 127.0.0.1, `--scheduler tcp://HOST:PORT` joins a cluster.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Protocol

from ..errors import ConfigError


class Executor(Protocol):
    slots: int  # plans worth keeping in flight

    async def share(self, value: Any) -> Any: ...

    async def submit(self, fn: Callable, *args: Any) -> Any: ...

    async def close(self) -> None: ...


class InProcess:
    """One plan at a time in a thread of this process (plans are CPU-bound: more threads gain nothing)."""

    slots = 1

    def __init__(self):
        self._one = asyncio.Lock()

    async def share(self, value: Any) -> Any:
        return value

    async def submit(self, fn: Callable, *args: Any) -> Any:
        async with self._one:
            return await asyncio.to_thread(fn, *args)

    async def close(self) -> None:
        pass


class DaskWorkers:
    """Tasks on a Dask cluster. A worker that dies takes its running plan with it; the scheduler
    gives that task to another worker (the nanny restarts a LocalCluster's), so no plan is lost."""

    def __init__(self, client, cluster=None):
        self.client, self.cluster = client, cluster
        self.slots = 1

    @classmethod
    async def start(cls, workers: int | None = None, scheduler: str | None = None) -> "DaskWorkers":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--workers/--scheduler need Dask: pip install 'plan-crosswalk[dask]'") from None
        cluster = None
        if scheduler:
            try:
                client = await Client(scheduler, asynchronous=True, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        else:
            cluster = await LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, asynchronous=True,
                                         host="127.0.0.1", dashboard_address=None, silence_logs=40)
            client = await Client(cluster, asynchronous=True)
        self = cls(client, cluster)
        info = self.client.scheduler_info()
        self.slots = max(sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()), 1)
        return self

    async def share(self, value: Any) -> Any:
        # on every worker once; a worker started later (a restarted one) fetches it from a peer
        return await self.client.scatter(value, broadcast=True, hash=False)

    async def submit(self, fn: Callable, *args: Any) -> Any:
        future = self.client.submit(fn, *args, pure=False)
        try:
            return await future
        except asyncio.CancelledError:  # interrupted: an external cluster must not go on with it
            try:
                await future.cancel()
            except Exception:
                pass
            raise

    async def close(self) -> None:
        await self.client.close()
        if self.cluster is not None:
            await self.cluster.close()


async def make_executor(workers: int | None, scheduler: str | None) -> Executor:
    if workers is None and scheduler is None:
        return InProcess()
    if workers is not None and workers < 1:
        raise ConfigError("--workers must be at least 1")
    return await DaskWorkers.start(workers, scheduler)
