"""What the CLI shows while and after it works: stage progress, a run's summary, fleet progress.

Views only read results; they never decide anything (the CLI and the API share everything else)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .extract.pdf import unread_pages
from .metrics import bottlenecks
from .pipeline import ConversionResult
from .report import count_by, status_counts

console = Console(stderr=False)


class ProgressView:
    """Stage progress on stderr: a live table on a terminal, a plain line per finished stage when
    piped (logs, CI), nothing with --quiet. Use as a context manager around the run."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.stages: dict[str, dict] = {}
        self._live = None

    def __enter__(self) -> "ProgressView":
        if not self.quiet and self.tty:
            from rich.live import Live

            self._live = Live(self._table(), console=Console(stderr=True), refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(None, None, None)

    def __call__(self, stage: str, info: dict) -> None:
        if self.quiet:
            return
        self.stages[stage] = info
        if self._live is not None:
            self._live.update(self._table())
        elif info.get("state") == "done":
            print(self.line(stage, info), file=sys.stderr, flush=True)

    @staticmethod
    def line(stage: str, info: dict) -> str:
        return (f"{stage}: {info['items']} items in {info['duration_s']:.2f} s"
                + (f", {info['api_calls']} calls, ${info['cost_usd']:.4f}" if info.get("api_calls") else "")
                + (f", {info['cache_hits']} from cache" if info.get("cache_hits") else ""))

    def _table(self) -> Table:
        table = Table(title="progress", title_justify="left")
        for col in ("stage", "state", "items", "seconds", "calls", "cache hits"):
            table.add_column(col, justify="left" if col in ("stage", "state") else "right")
        for stage, info in self.stages.items():
            state = info.get("state")
            running = state == "running"
            seconds = time.time() - info["start"] if running else info["duration_s"]
            shown = {"running": "[yellow]running[/yellow]", "done": "[green]done[/green]"}.get(state, "[red]stopped[/red]")
            table.add_row(stage, shown, str(info["items"]),
                          f"{seconds:.1f}", str(info.get("api_calls") or ""), str(info.get("cache_hits") or ""))
        return table


def print_summary(result: ConversionResult, out: Path, seconds: float) -> None:
    table = Table(title="crosswalk summary")
    for col in ("crosswalk", "source items", "match", "partial", "abstain", "no_match", "error"):
        table.add_column(col, justify="right" if col != "crosswalk" else "left")
    for kind, m in result.results.items():
        c = status_counts(m.crosswalk)
        table.add_row(kind.upper(), str(len(m.crosswalk.mappings)), *(str(c.get(s, 0)) for s in
                      ("match", "partial", "abstain", "no_match", "error")))
    console.print(table)
    reviewed = sum(m.reviewed for r in result.results.values() for m in r.crosswalk.mappings)
    if reviewed:
        console.print(f"{'reviewer decisions':>18}: {reviewed} applied (status match or no_match, marked reviewed)")
    if result.instance is not None:
        inst = result.instance
        for title, counts in (("confirmation", count_by(inst.confirmations, "status")),
                              ("variance type", count_by(inst.variances, "variance_type")),
                              ("impact", count_by(inst.variances, "impact")),
                              ("proposed target AA", count_by(inst.proposals, "status"))):
            console.print(f"{title:>18}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        console.print(f"{'exception log':>18}: {len(inst.exceptions)} open items")
    for b in bottlenecks(result.metrics):  # all of them are in metrics.json; here only what to act on
        if b["recommendation"] != "performance is acceptable":
            console.print(f"bottleneck: {b['operation']} took {b['time_share']:.0%} of the time: {b['recommendation']}")
    console.print(f"finished in {seconds:.1f} s; outputs in {out}")
    console.print(f"review report: {out / 'report.html'}  workbook: {out / 'workbook.xlsx'}")


class FleetProgress:
    """Plans done, failed, rate and ETA, one line per plan on stderr (`--quiet`: none)."""

    def __init__(self, quiet: bool):
        self.total, self.quiet = 0, quiet
        self.done = self.failed = self.skipped = 0
        self.started = time.perf_counter()

    def __call__(self, event: dict) -> None:
        if event["event"] == "shared" and not self.quiet:
            print(f"fleet: shared work ready in {event['seconds']:.1f} s", file=sys.stderr, flush=True)
        if event["event"] == "start":
            self.started, self.total = time.perf_counter(), event["total"]
        if event["event"] != "plan":
            return
        status = event["status"]
        self.done += status == "finished"
        self.failed += status == "failed"
        self.skipped += status == "skipped"
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 and self.done else 0.0
        left = self.total - self.done - self.failed - self.skipped
        eta = f"ETA {left / rate:.0f} s" if rate else "ETA -"
        note = f" ({event['plan']}: {event['error']})" if status == "failed" else ""
        print(f"fleet: {self.done + self.skipped}/{self.total} done, {self.failed} failed, "
              f"{rate * 3600:.0f} plans/h, {eta}{note}", file=sys.stderr, flush=True)


def warn_unread_pages(*docs) -> None:
    """Name every PDF page that gave nothing (no text layer and no OCR, or a failure), file and page."""
    for doc in docs:
        if doc is None:
            continue
        unread = unread_pages(doc.page_paths)
        if unread:
            console.print(f"[yellow]{Path(doc.source_path).name}: {'; '.join(unread)}[/yellow]", highlight=False)
