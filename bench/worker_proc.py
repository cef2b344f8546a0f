"""A worker in a process of its own, so the scale benchmark can read its memory and restart it.

    python -m bench.worker_proc --temporal-address HOST:PORT --queue Q \
        --kind vcs|floor|floor-case|floor-rows [--database URL]

Prints `ready` once the worker polls, and shuts down gracefully on SIGTERM.
"""

import argparse
import asyncio
import os
import signal
import sys

from temporalio.client import Client
from temporalio.worker import Worker

from bench.common import converter
from bench.floor import FloorCaseWorkflow, FloorSleepWorkflow
from bench.floor_activities import build_floor_worker
from models.db import make_engine
from worker import MAX_CACHED_WORKFLOWS, MAX_CONCURRENT_WORKFLOW_TASKS, build_worker


async def serve(address: str, queue: str, kind: str, database: str | None) -> None:
    client = await Client.connect(address, data_converter=converter())
    if kind == "vcs":
        worker = build_worker(client, make_engine(database), queue)
    elif kind == "floor-rows":
        worker = build_floor_worker(client, make_engine(database), queue)
    else:
        worker = Worker(
            client,
            task_queue=queue,
            workflows=[FloorSleepWorkflow if kind == "floor" else FloorCaseWorkflow],
            max_cached_workflows=MAX_CACHED_WORKFLOWS,  # the same cache and slots as ours
            max_concurrent_workflow_tasks=MAX_CONCURRENT_WORKFLOW_TASKS,
        )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("ready", flush=True)
        await stop.wait()
    print("stopped", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_proc")
    parser.add_argument("--temporal-address", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument(
        "--kind", choices=["vcs", "floor", "floor-case", "floor-rows"], required=True
    )
    parser.add_argument("--database")
    args = parser.parse_args()
    asyncio.run(serve(args.temporal_address, args.queue, args.kind, args.database))
    sys.stdout.flush()
    os._exit(0)  # as starter.py: skip teardown of the client's native threads


if __name__ == "__main__":
    main()
