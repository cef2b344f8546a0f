"""Benchmarks of the Victim Contact Scheme engine, each against a floor on the same server.

    .venv/bin/python bench/run.py                       # all five, full size
    .venv/bin/python bench/run.py --cases 100 --scale-cases 1000 --sentences 50   # quick
    .venv/bin/python bench/run.py --only cost           # one of: responsiveness, cost,
                                                        #         scale, sentences, floors
    .venv/bin/python bench/run.py --only floors --floor-cases 30   # a small fair-floors run

`floors` (issue 15 §4) runs ours and the same-shape floor (bench/floor.py FloorRowsWorkflow:
update-with-start, then three updates each writing one row through a local activity)
interleaved on one dev server, with the case database on SQLite and on PostgreSQL
(127.0.0.1:5432, database `test`, a schema of the run's own, dropped after): one at a time,
an open loop below saturation and a closed loop at 20 in flight, with the issue's targets.

Prints a table per benchmark with ratios (ours / floor) and appends a dated section to
bench/RESULTS.md. Timing on a shared machine is noisy: ratios are measured in one run, and
nothing here fails on a time.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = ("responsiveness", "cost", "scale", "sentences", "floors")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmarks of the Victim Contact Scheme engine against floor workflows.",
    )
    parser.add_argument(
        "--cases", type=int, default=1000, help="responsiveness: cases driven (default 1000)"
    )
    parser.add_argument(
        "--scale-cases",
        type=int,
        default=10_000,
        help="scale: open cases (and floor workflows) held (default 10000)",
    )
    parser.add_argument(
        "--burst-cases",
        type=int,
        default=10_000,
        help="scale: open cases that fall due at once, the oldest (default 10000; 0: none)",
    )
    parser.add_argument(
        "--scale-minutes",
        type=float,
        help="scale: stop creating ours at the last count reachable within this many minutes",
    )
    parser.add_argument(
        "--sentences",
        type=int,
        default=200,
        help="sentences: whole sentences run under time skipping (default 200)",
    )
    parser.add_argument(
        "--floor-cases",
        type=int,
        default=200,
        help="floors: cases a side one at a time, and in each of the load blocks (default 200)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--no-results", action="store_true", help="do not append to bench/RESULTS.md"
    )
    parser.add_argument(
        "--results-file",
        type=Path,
        help="append the sections to this file instead of bench/RESULTS.md",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (server databases, worker logs)",
    )
    return parser.parse_args(argv)


async def run_benchmarks(args: argparse.Namespace, workdir: Path) -> int:
    """Run the chosen benchmarks; one that fails is reported and the others still run (and
    are written to bench/RESULTS.md). Returns how many failed."""
    from bench import cost, floors, responsiveness, scale, sentences
    from bench.common import Section, say, use_bench_keys
    from bench.results import RESULTS, append_results

    use_bench_keys()
    chosen = args.only or list(BENCHMARKS)
    sections: list[Section] = []
    failed = 0
    started = time.perf_counter()
    for name in BENCHMARKS:
        if name not in chosen:
            continue
        say(f"\n>>> {name}")
        began = time.perf_counter()
        try:
            if name == "responsiveness":
                section = await responsiveness.run(args.cases, workdir / name)
            elif name == "cost":
                section = await cost.run(workdir / name)
            elif name == "floors":
                section = await floors.run(args.floor_cases, workdir / name)
            elif name == "scale":
                budget = args.scale_minutes * 60 if args.scale_minutes else None
                section = await scale.run(
                    args.scale_cases, workdir / name, args.burst_cases, budget
                )
            else:
                section = await sentences.run(args.sentences, workdir / name)
        except Exception as err:
            traceback.print_exc()
            failed += 1
            section = Section(
                f"{name}: FAILED",
                findings=[f"{type(err).__name__}: {err}"],
                seconds=time.perf_counter() - began,
            )
        sections.append(section)
        say("\n" + section.text())
    say(f"\nall benchmarks: {time.perf_counter() - started:.0f} s")
    if not args.no_results and sections:
        command = "bench/run.py " + " ".join(sys.argv[1:])
        path = append_results(
            sections, command.strip(), datetime.now(UTC), args.results_file or RESULTS
        )
        say(f"results appended to {path}")
    return failed


def main() -> None:
    args = parse_args(sys.argv[1:])
    # Run as a script: make the repository importable (bench, tests and the project).
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    os.chdir(root)
    workdir = Path(tempfile.mkdtemp(prefix="vcs-bench-"))
    print(f"working directory: {workdir} ({os.cpu_count()} cores)", flush=True)
    code = 0
    try:
        code = 1 if asyncio.run(run_benchmarks(args, workdir)) else 0
    except KeyboardInterrupt:
        code = 130
    except Exception:
        traceback.print_exc()
        code = 1
    finally:
        if args.keep or code:
            print(f"kept {workdir}", flush=True)
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown, as starter.py does: the Temporal client's native threads can
    # abort it at exit.
    os._exit(code)


if __name__ == "__main__":
    main()
