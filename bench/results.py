"""bench/RESULTS.md: one dated section per run, appended."""

import os
import platform
from datetime import datetime
from pathlib import Path

from bench.common import Section

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = """# Benchmark results

Appended by `bench/run.py` (see README, "Benchmarks"), newest last. Each ratio compares ours with
a floor workflow on the same server in the same run; timings on a shared machine are noisy, so
compare ratios, not absolute times, between sections.
"""


def append_results(
    sections: list[Section], command: str, when: datetime, path: Path = RESULTS
) -> Path:
    lines = [
        "",
        f"## {when:%Y-%m-%d %H:%M} UTC: `{command}`",
        "",
        f"Machine: {os.cpu_count()} cores (os.cpu_count()), {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}.",
        "",
    ]
    for section in sections:
        lines.append(section.markdown())
    text = "\n".join(lines)
    if not path.exists():
        text = HEADER + text
    with path.open("a", encoding="utf-8") as out:
        out.write(text)
    return path
