"""Connecting to the cluster and placing the actors: the only module that talks to Ray's own API.

The driver joins an existing cluster (``--ray auto``, ``--ray HOST:PORT``, or ``RAY_ADDRESS`` through the
settings); it never starts one. The gate and the cache service live on the driver's node (the cache is
the driver's file); one shard worker per CPU of the cluster, spread over the nodes. Nothing secret is
passed to Ray here: no ``runtime_env``, no job metadata, only names and limits as actor arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, ConfigError

if TYPE_CHECKING:
    from assay.cluster.services import RoleLimits
    from assay.env.redaction import Redactor
    from assay.env.settings import Settings
    from assay.options import RunOptions

log = logging.getLogger("assay.cluster")

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
#: How long a worker may take to load the tasks and docs before the run gives up on it.
START_TIMEOUT_S = 600.0


@contextlib.contextmanager
def _redacted_entrypoint(redactor: Redactor) -> Iterator[None]:
    """Ray keeps the driver's command line (read from the process) as its job's entrypoint, which the state
    API and the dashboard show: it gets the command line with every secret (``--model_args api_key=…``)
    masked. (tests/ray_inner checks the job table for it.)"""
    import shlex

    from ray._private import utils

    original = utils.get_entrypoint_name
    utils.get_entrypoint_name = lambda: redactor.redact(shlex.join(sys.argv))
    try:
        yield
    finally:
        utils.get_entrypoint_name = original


@contextlib.contextmanager
def _keep_signal_handlers() -> Iterator[None]:
    """``ray.init`` installs handlers of its own; the run's (stop gracefully, write results) must stay."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


_HINT = ("start one with `ray start --head --port=6379` (and `ray start --address=HEAD:6379` on each other node), "
         "then pass --ray HEAD:6379, or --ray auto on a node of it")
#: Ray waits minutes for an address where nothing listens; a plain TCP connect says so at once.
PROBE_TIMEOUT_S = 5.0


def _probe(address: str) -> None:
    """A ``HOST:PORT`` that nothing answers on is a ConfigError now, not minutes of Ray retrying."""
    if address == "auto":
        return
    if "://" in address:
        raise ConfigError(f"--ray {address}: only a cluster's HOST:PORT (its GCS address) or auto is supported",
                          hint="Ray Client (ray://) is not supported: run assay on a node of the cluster")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--ray {address!r} is not HOST:PORT", hint="e.g. --ray 10.0.0.5:6379, or --ray auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        raise ConfigError(f"cannot join the Ray cluster at {address}: {exc.strerror or exc}", hint=_HINT) from None


def connect(address: str, redactor: Redactor) -> bool:
    """Join the cluster at ``address`` (``auto``: the one started on this machine), or a ConfigError.
    False when this process had joined already (whoever joined leaves)."""
    import ray

    if ray.is_initialized():
        return False
    _probe(address)
    with _keep_signal_handlers(), _redacted_entrypoint(redactor):
        try:
            ray.init(address=address, namespace=f"assay-{os.getpid()}", logging_level=logging.WARNING,
                     log_to_driver=True, include_dashboard=False)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            raise ConfigError(f"cannot join the Ray cluster at {address}: {str(exc).splitlines()[0]}",
                              hint=_HINT) from None
    return True


def disconnect() -> None:
    import ray

    with contextlib.suppress(Exception):
        ray.shutdown()


def cluster_cpus() -> int:
    import ray

    nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
    return int(sum(node["Resources"].get("CPU", 0) for node in nodes if node.get("Alive")))


def _on_this_node() -> Any:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)


def start_gate(max_cost: float | None, roles: dict[str, RoleLimits]) -> Any:
    import ray

    from assay.cluster.services import Gate

    actor = ray.remote(num_cpus=0, max_restarts=0)(Gate)
    return actor.options(scheduling_strategy=_on_this_node()).remote(max_cost, roles)


def start_cache(path: str) -> Any:
    import ray

    from assay.cluster.services import CacheService

    actor = ray.remote(num_cpus=0, max_restarts=0)(CacheService)
    return actor.options(scheduling_strategy=_on_this_node()).remote(path)


@dataclass
class Worker:
    name: str
    handle: Any
    host: str = ""
    alive: bool = True


async def start_workers(count: int, settings: Settings, options: RunOptions, redactor: Redactor, *, gate: Any,
                        cache: Any) -> list[Worker]:
    """``count`` workers, each handed the settings sealed for its own key, each with the tasks loaded.
    A worker that cannot load what the driver can raises that error here, before any file is written."""
    import ray

    from assay.cluster.sealed import seal
    from assay.cluster.worker import ShardWorker

    actor = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(ShardWorker)
    workers = [Worker(f"w{i}", actor.options(scheduling_strategy="SPREAD").remote()) for i in range(count)]
    payload = pickle.dumps((settings, options, redactor))
    keys = await asyncio.gather(*(w.handle.public_key.remote() for w in workers))
    starts = [w.handle.start.remote(seal(key, payload), gate, cache, w.name)
              for w, key in zip(workers, keys, strict=True)]
    try:
        infos = await asyncio.wait_for(asyncio.gather(*starts), START_TIMEOUT_S)
    except TimeoutError:
        stop_actors([w.handle for w in workers])
        raise ConfigError(f"the Ray workers did not load the run within {START_TIMEOUT_S:g}s",
                          hint="check the cluster's nodes (`ray status`) and that each has assay installed") from None
    for worker, info in zip(workers, infos, strict=True):
        error = info.get("error")
        if isinstance(error, AssayError):
            stop_actors([w.handle for w in workers])
            raise error
        worker.host = str(info.get("host", ""))
    log.info("%d Ray workers ready on %s", len(workers), ", ".join(sorted({w.host for w in workers})))
    return workers


def stop_actors(handles: list[Any]) -> None:
    import ray

    for handle in handles:
        with contextlib.suppress(Exception):
            ray.kill(handle, no_restart=True)


def lost_worker_errors() -> tuple[type[BaseException], ...]:
    """What awaiting a worker raises when its process or node is gone."""
    from ray import exceptions as e

    return (e.RayActorError, e.ActorUnavailableError, e.ObjectLostError, e.WorkerCrashedError, e.NodeDiedError,
            e.OwnerDiedError)
