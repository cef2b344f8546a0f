"""The scale benchmark's tables (bench/scale.py): the worker's memory as cases accumulate,
against the sleeping floor; growth per case beyond the cache; the burst against its targets."""

import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.common import CONCURRENCY, Section, Table, met, num, percentile, ratio, times
from bench.scale_burst import IDLE_SECONDS, Burst
from bench.scale_cases import (
    SETTLE_CPU,
    SETTLE_WINDOW,
    WARM_UP,
    Population,
    Sample,
    victims_of,
)
from worker import MAX_CACHED_WORKFLOWS

GROWTH_TARGET_KIB = 2.0  # per case beyond the cache
BURST_TARGET_MINUTES = 10.0  # for 10,000 cases due on one day
BURST_TARGET_CASES = 10_000
P99_TARGET = 3.0  # the VLO's update p99 during the burst, against idle


@dataclass
class Run:
    """Everything one run measured."""

    floor: Population
    ours: Population
    burst: Burst | None
    database: str  # the case database
    load: list[tuple[str, tuple[float, float, float]]] = field(default_factory=list)


def memory_table(run: Run) -> Table:
    table = Table(
        [
            "open cases",
            "ours RSS (MiB)",
            "floor RSS (MiB)",
            "ours/floor",
            "ours peak (MiB)",
            "server DB, ours (MB)",
            "server DB, floor (MB)",
        ]
    )
    for sample in run.ours.samples:
        floor = run.floor.at(sample.cases)
        table.add(
            f"{sample.cases:,}",
            num(sample.rss_mib),
            num(floor.rss_mib) if floor else "-",
            times(ratio(sample.rss_mib, floor.rss_mib)) if floor else "-",
            num(sample.hwm_mib),
            num(sample.database_bytes / 1e6),
            num(floor.database_bytes / 1e6) if floor else "-",
        )
    table.caption = (
        f"worker VmRSS once settled, as cases accumulate (cache: {MAX_CACHED_WORKFLOWS:,} "
        "workflows, one per case)"
    )
    return table


def growth_table(run: Run) -> Table:
    table = Table(["measure", "ours", "floor", "ours/floor", "target", "verdict"])
    ours, floor = run.ours.growth_kib_per_case(), run.floor.growth_kib_per_case()
    pair = run.ours.beyond_cache()
    span = f"slope, {pair[0].cases:,} to {pair[1].cases:,} cases" if pair else "-"
    table.add(
        f"RSS growth per case beyond the cache (KiB; {span})",
        num(ours, 2),
        num(floor, 2),
        times(ratio(ours, floor)) if floor > 0 else "-",  # a flat floor: no ratio
        f"< {GROWTH_TARGET_KIB:.0f} KiB",
        "-" if math.isnan(ours) else met(ours < GROWTH_TARGET_KIB),
    )
    full_ours, full_floor = run.ours.at(MAX_CACHED_WORKFLOWS), run.floor.at(MAX_CACHED_WORKFLOWS)
    first_ours, first_floor = run.ours.samples[0], run.floor.samples[0]
    if full_ours and full_floor and first_ours.cases < MAX_CACHED_WORKFLOWS:
        per_ours = kib_between(first_ours, full_ours)
        per_floor = kib_between(first_floor, full_floor)
        table.add(
            f"RSS per case inside the cache (KiB; {first_ours.cases:,} -> "
            f"{MAX_CACHED_WORKFLOWS:,} cases)",
            num(per_ours, 1),
            num(per_floor, 1),
            times(ratio(per_ours, per_floor)),
            "",
            "",
        )
    table.add(
        "created per second (cases / sleepers)",
        num(run.ours.created_per_second()),
        num(run.floor.created_per_second()),
        times(ratio(run.ours.created_per_second(), run.floor.created_per_second())),
        "",
        "",
    )
    last_ours, last_floor = run.ours.samples[-1], run.floor.samples[-1]
    table.add(
        "server database per case (kB)",
        num(last_ours.database_bytes / last_ours.cases / 1e3),
        num(last_floor.database_bytes / last_floor.cases / 1e3),
        times(ratio(last_ours.database_bytes, last_floor.database_bytes)),
        "",
        "",
    )
    return table


def kib_between(a: Sample, b: Sample) -> float:
    """RSS added per case from sample a to sample b."""
    return (b.rss_mib - a.rss_mib) * 1024 / (b.cases - a.cases)


def burst_table(result: Burst) -> Table:
    table = Table(["measure", "value", "target", "verdict"])
    minutes = result.done_seconds / 60
    extrapolated = result.minutes_for(BURST_TARGET_CASES)
    p99_idle, p99_burst = percentile(result.idle_ms, 99), percentile(result.burst_ms, 99)
    table.add("cases due at once", f"{result.cases:,}", "", "")
    table.add("signals sent, first to last (s)", num(result.signal_seconds), "", "")
    table.add(
        "first signal to every case's task opened (min)",
        num(minutes, 2) if result.handled >= result.cases else f"({result.handled:,} handled)",
        "",
        "",
    )
    table.add("steady rate once due (cases/min, 10%-90%)", num(result.rate_per_minute(), 0), "", "")
    table.add(
        f"{BURST_TARGET_CASES:,} cases at that rate (min)",
        num(extrapolated, 2),
        f"<= {BURST_TARGET_MINUTES:.0f} min",
        "-" if math.isnan(extrapolated) else met(extrapolated <= BURST_TARGET_MINUTES),
    )
    table.add(
        f"VLO update p50, idle / burst (ms; {len(result.idle_ms)} / {len(result.burst_ms)})",
        f"{num(percentile(result.idle_ms, 50))} / {num(percentile(result.burst_ms, 50))}",
        "",
        "",
    )
    table.add(
        "VLO update p99, idle / burst (ms)",
        f"{num(p99_idle)} / {num(p99_burst)}",
        "",
        "",
    )
    p99_ratio = ratio(p99_burst, p99_idle)
    table.add(
        "VLO update p99, burst / idle",
        times(p99_ratio),
        f"< {P99_TARGET:.0f}x",
        "-" if math.isnan(p99_ratio) else met(p99_ratio < P99_TARGET),
    )
    table.add(
        "worker RSS after the burst / peak (MiB)",
        f"{num(result.rss_mib)} / {num(result.hwm_mib)}",
        "",
        "",
    )
    if result.load:
        table.add(
            "1-min load average during the burst (min / max)",
            f"{min(result.load):.1f} / {max(result.load):.1f}",
            "",
            "",
        )
    return table


def fill(section: Section, run: Run) -> None:
    cases = run.ours.cases
    two = sum(1 for i in range(cases) if victims_of(i) == 2)
    section.setup = [
        f"Ours: {cases:,} cases, each one `VictimContactCase` workflow holding its victims "
        f"({cases - two:,} with one, {two:,} with two): the case's and victims' rows written as "
        "the service writes them, then one update-with-start (add_victims) that starts the "
        "workflow and opens each victim's offer task; each case then waits on one wake-up "
        f"timer. Case database: {run.database}. Floor: as many bench/floor.py "
        "FloorSleepWorkflow, each asleep on one timer. Each side on a `temporal server "
        "start-dev` of its own (so their databases are weighed apart), ours first, then as "
        f"many sleepers ({CONCURRENCY} in flight each), each side's worker in a process of its "
        f"own (max_cached_workflows={MAX_CACHED_WORKFLOWS:,} in both: worker.py's "
        "VCS_MAX_CACHED_WORKFLOWS, default 2,000).",
        "Memory: the worker's VmRSS / VmHWM from /proc/<pid>/status, read once the worker has "
        f"settled (under {SETTLE_CPU:.2f} s of CPU in {SETTLE_WINDOW:.0f} s). Growth per case "
        "beyond the cache: the least-squares slope of RSS over every count with the cache "
        f"full and past the first {WARM_UP:,} cases (the worker's warm-up); the older cases' "
        "workflows are evicted (the cache keeps the most recent), so this is what an open "
        "case costs the worker while it waits outside the cache.",
    ]
    if run.burst is not None:
        section.setup.append(
            "Burst (bench/scale_burst.py): a date falls due at 00:00 London and the dev "
            "server's clock is the wall clock, so the due moment is stood in for by one signal "
            "per case (`letter_undelivered`), sent as fast as the server takes them: every case "
            "gets a workflow task at once, as when its timer fires, wakes (replayed if outside "
            "the cache), opens one VLO task (an activity), re-plans its timer and publishes. "
            "Done when every case's task is a row in the case database. Meanwhile one VLO "
            "action a second (open loop): a milestone recalculation on one of "
            f"20 cases outside the burst, in turn; idle: the same for {IDLE_SECONDS:.0f} s "
            "just before. The rate is what matters when the wake-ups are spread across the "
            "morning: spread over three hours, 10,000 cases need 56 a minute."
        )
    section.tables = [memory_table(run), growth_table(run)]
    if run.burst is not None:
        section.tables.append(burst_table(run.burst))
    loads = ", ".join(f"{when} {a:.1f}/{b:.1f}/{c:.1f}" for when, (a, b, c) in run.load)
    section.findings = [f"Load average (1/5/15 min; 2 cores, shared): {loads}."]
    growth = run.ours.growth_kib_per_case()
    if not math.isnan(growth):
        section.findings.append(
            f"Growth per case beyond the cache: {num(growth, 2)} KiB (floor "
            f"{num(run.floor.growth_kib_per_case(), 2)} KiB); target under "
            f"{GROWTH_TARGET_KIB:.0f} KiB: {met(growth < GROWTH_TARGET_KIB)}."
        )
    for population in (run.ours, run.floor):
        if population.errors:
            section.findings.append(
                f"{population.label}: {len(population.errors)} failed, e.g. {population.errors[0]}"
            )
    if run.burst is not None and (run.burst.vlo_errors or run.burst.signal_errors):
        errors = run.burst.vlo_errors + run.burst.signal_errors
        section.findings.append(
            f"burst: {len(run.burst.vlo_errors)} VLO actions and "
            f"{len(run.burst.signal_errors)} signals failed, e.g. {errors[0]}"
        )


def save(run: Run, path: Path) -> None:
    """The measurements as JSON, to render again (`python -m bench.scale_report FILE`)."""
    path.write_text(json.dumps(asdict(run), indent=1))


def load(path: Path) -> Run:
    raw = json.loads(path.read_text())

    def population(p: dict[str, Any]) -> Population:
        return Population(p["label"], [Sample(**s) for s in p["samples"]], p["errors"])

    burst = raw["burst"]
    if burst is not None:
        burst["timeline"] = [tuple(point) for point in burst["timeline"]]
    return Run(
        floor=population(raw["floor"]),
        ours=population(raw["ours"]),
        burst=Burst(**burst) if burst is not None else None,
        database=raw["database"],
        load=[(when, tuple(avg)) for when, avg in raw["load"]],
    )


if __name__ == "__main__":
    section = Section(sys.argv[2] if len(sys.argv) > 2 else "3. Scale")
    fill(section, load(Path(sys.argv[1])))
    print(section.markdown())
