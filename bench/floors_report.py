"""What bench/floors.py measured, as tables: ours against the same-shape floor, ratios beside
the issue's targets (issue 15 §4)."""

from dataclasses import dataclass

from bench.common import CONCURRENCY, Section, Table, met, ms, num, percentile, ratio, times
from bench.history import ACTION_ORDER, Tally

UPDATE_P50_TARGET = 1.2  # issue 15 §4: an action's update p50, one at a time, <= 1.2x floor
THROUGHPUT_TARGET = 0.7  # issue 15 §4: cases/s at 20 in flight >= 0.7x floor


@dataclass
class Sample:
    """One case, ours or the floor's: the client's calls in order (register or open, then the
    three actions), what ours waits for between them, and the whole."""

    steps: list[float]
    waited: float  # ours: until the offer task is listed; the floor: nothing

    @property
    def whole(self) -> float:
        return sum(self.steps) + self.waited


@dataclass
class Samples:
    items: list[Sample]

    def actions(self) -> list[float]:
        """Every action's call (the three after the register or open)."""
        return [s for item in self.items for s in item.steps[1:]]

    def step(self, index: int) -> list[float]:
        return [item.steps[index] for item in self.items]

    def whole(self) -> list[float]:
        return [item.whole for item in self.items]

    def waited(self) -> list[float]:
        return [item.waited for item in self.items]


@dataclass
class Phases:
    """One backend's run: each pair is (ours, floor)."""

    backend: str
    alone: tuple[Samples, Samples]
    closed: tuple[Samples, Samples]
    closed_rates: tuple[float, float]  # cases/s
    open_rate: float  # arrivals/s, both sides
    opened: tuple[Samples, Samples]
    failed: tuple[int, int]

    @property
    def update_ratio(self) -> float:
        ours, floor = self.alone
        return ratio(percentile(ours.actions(), 50), percentile(floor.actions(), 50))

    @property
    def rate_ratio(self) -> float:
        return ratio(*self.closed_rates)


def compare(table: Table, name: str, ours: float, floor: float, target: str = "") -> None:
    """A latency row (seconds in, ms shown), with a target's verdict if it has one."""
    r = ratio(ours, floor)
    verdict = ""
    if target:
        verdict = met(r <= UPDATE_P50_TARGET)
    table.add(name, ms(ours), ms(floor), times(r), target, verdict)


def headline(p: Phases) -> Table:
    table = Table(["measure", "ours", "floor", "ours/floor", "target", "verdict"])
    table.caption = f"{p.backend} case database: latency in ms, wall time of the client's call"
    (alone_o, alone_f), (open_o, open_f), (closed_o, closed_f) = p.alone, p.opened, p.closed
    compare(
        table,
        "one at a time: action p50",
        percentile(alone_o.actions(), 50),
        percentile(alone_f.actions(), 50),
        f"<= {UPDATE_P50_TARGET:.2f}x",
    )
    for name, pct, o, f in (
        ("one at a time: action p95", 95, alone_o.actions(), alone_f.actions()),
        ("one at a time: whole case p50", 50, alone_o.whole(), alone_f.whole()),
        (f"open loop {p.open_rate:.2f}/s: action p50", 50, open_o.actions(), open_f.actions()),
        (f"open loop {p.open_rate:.2f}/s: action p99", 99, open_o.actions(), open_f.actions()),
        (f"open loop {p.open_rate:.2f}/s: whole case p50", 50, open_o.whole(), open_f.whole()),
        (f"closed loop {CONCURRENCY} in flight: action p50", 50, closed_o.actions(),
         closed_f.actions()),
    ):  # fmt: skip
        compare(table, name, percentile(o, pct), percentile(f, pct))
    ours_rate, floor_rate = p.closed_rates
    table.add(
        f"closed loop {CONCURRENCY} in flight: cases/s",
        num(ours_rate, 2),
        num(floor_rate, 2),
        times(p.rate_ratio),
        f">= {THROUGHPUT_TARGET:.2f}x",
        met(p.rate_ratio >= THROUGHPUT_TARGET),
    )
    return table


def steps(p: Phases) -> Table:
    table = Table(["one at a time: ours / floor", "ours p50", "floor p50", "ours/floor"])
    table.caption = f"{p.backend}: each call of a case beside its floor counterpart (ms)"
    ours, floor = p.alone
    pairs = [
        "register case / open (update-with-start)",
        "add victim / action 1",
        "complete offer task / action 2",
        "opt in / action 3",
    ]
    for index, name in enumerate(pairs):
        o, f = percentile(ours.step(index), 50), percentile(floor.step(index), 50)
        table.add(name, ms(o), ms(f), times(ratio(o, f)))
        if index == 1:
            waited = percentile(ours.waited(), 50)
            table.add("(ours) ... until the offer task is listed", ms(waited), "-", "-")
    return table


def actions(ours: Tally, floor: Tally) -> Table:
    table = Table(["Temporal actions, one case", "ours", "same-shape floor"])
    table.caption = (
        "The Temporal minimum for the same work: one case registered and its three actions "
        "(ours: every workflow of the case, counted to the end of the run)"
    )
    for kind in ACTION_ORDER:
        if ours.actions[kind] or floor.actions[kind]:
            table.add(kind, ours.actions[kind], floor.actions[kind])
    table.add("all actions", ours.total_actions, floor.total_actions)
    table.add("ours / floor", times(ratio(ours.total_actions, floor.total_actions)), "")
    return table


def report(runs: list[Phases], count: int, tallies: tuple[Tally, Tally]) -> Section:
    section = Section("5. Fair floors, measured in one run (issue 15 §4)")
    rates = ", ".join(f"{p.backend} {p.open_rate:.2f}" for p in runs)
    section.setup = [
        "Measured while other work ran on the machine (2 shared cores, other test runs): "
        "ratios only, not absolute times.",
        "Ours: a case registered with one victim, then three VLO actions through the service "
        "layer (bench.common drive_case: add victim, complete the offer task the moment it is "
        "listed, opt in). Floor: bench/floor.py FloorRowsWorkflow, the same shape with nothing "
        "of ours: opened by update-with-start, then three updates each writing one row "
        "through a local activity to the same case database (bench/floor_activities.py), its "
        "worker configured as ours. One dev server (SQLite file); each side's worker in a "
        "process of its own; payloads encrypted on both sides.",
        f"Interleaved: {count} cases a side one at a time (ours, floor, ours, ...), after "
        f"unmeasured warm-up; then a closed loop ({CONCURRENCY} in flight) and an open loop "
        f"(arrivals at a fixed rate, half the slower side's closed-loop cases/s: {rates}), each "
        f"in four blocks of {count} cases, ours, floor, floor, ours. An action's latency is "
        "the VLO's call (ours: service layer, database and update; floor: the update).",
    ]
    for p in runs:
        section.tables += [headline(p), steps(p)]
    section.tables.append(actions(*tallies))
    for p in runs:
        section.findings.append(
            f"{p.backend}: action p50 one at a time {times(p.update_ratio)} the floor's "
            f"(target <= {UPDATE_P50_TARGET:.2f}x: {met(p.update_ratio <= UPDATE_P50_TARGET)}); "
            f"cases/s at {CONCURRENCY} in flight {times(p.rate_ratio)} "
            f"(target >= {THROUGHPUT_TARGET:.2f}x: {met(p.rate_ratio >= THROUGHPUT_TARGET)})."
        )
        ours_failed, floor_failed = p.failed
        if ours_failed or floor_failed:
            section.findings.append(
                f"{p.backend}: {ours_failed} of our cases and {floor_failed} floor cases "
                "failed under load (left out of the figures)."
            )
    ours, floor = tallies
    section.findings.append(
        f"Temporal actions for one case (register + three actions): ours {ours.total_actions}, "
        f"the same-shape floor {floor.total_actions} "
        f"({times(ratio(ours.total_actions, floor.total_actions))})."
    )
    return section
