"""Workers in processes of their own (bench/worker_proc.py), as they are deployed: the VLO's
tool and the worker are separate processes (docker-compose.yml's `tools` and `worker`)."""

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.common import ROOT, memory_kib


class WorkerProcess:
    """`python -m bench.worker_proc`: a worker we can weigh (VmRSS) and restart."""

    def __init__(self, target: str, queue: str, kind: str, database: str | None, log: Path):
        self.args = ["--temporal-address", target, "--queue", queue, "--kind", kind]
        if database:
            self.args += ["--database", database]
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    async def start(self) -> float:
        """Launch; seconds until the worker says it is polling."""
        started = time.perf_counter()
        with self.log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.worker_proc",
                *self.args,
                cwd=ROOT,
                env=dict(os.environ),
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 120)
        if line.strip() != b"ready":
            raise RuntimeError(f"worker did not start: see {self.log}")
        self._drain = asyncio.create_task(self._copy_output(self.process.stdout))
        return time.perf_counter() - started

    async def _copy_output(self, stdout: asyncio.StreamReader) -> None:
        """Everything the worker prints after `ready` into its log. The SDK's core logs its
        warnings (e.g. TMPRL1104, a workflow task over 5 s) to stdout: left unread, the pipe
        fills and the worker blocks on its next warning, holding every task it has."""
        with self.log.open("ab") as log:
            while line := await stdout.readline():
                log.write(line)
                log.flush()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Started for the block, stopped after it; never left behind on a failure."""
        await self.start()
        try:
            yield
        finally:
            try:
                await self.stop()
            finally:
                self.kill()

    async def stop(self) -> float:
        """SIGTERM (graceful shutdown); seconds until the process has exited."""
        assert self.process is not None
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 120)
        self.process = None
        if self._drain is not None:
            await self._drain  # the pipe has closed: it ends
        return time.perf_counter() - started

    def log_tail(self, lines: int = 15) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """After a failure: never leave a worker behind."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
        self.process = None

    def cpu_seconds(self) -> float:
        """User and system CPU time so far, from /proc/<pid>/stat."""
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mib(self) -> tuple[float, float]:
        """(resident now, peak resident) in MiB, from /proc/<pid>/status."""
        assert self.process is not None
        kib = memory_kib(self.process.pid)
        return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024
