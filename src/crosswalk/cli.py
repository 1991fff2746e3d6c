"""Command-line interface (thin: parse flags, call the library, print).

Every user error is a `CrosswalkError`: one line on stderr naming the file and
record, a non-zero exit code, no traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Awaitable, Callable, Optional, TypeVar

import typer
from rich.table import Table

from ._version import __version__
from .api import ConversionInputs, Crosswalker, item_types
from .errors import ConfigError, CrosswalkError, InputError, Interrupted, ItemsFailedError, OutputError
from .interrupts import stop_requested
from .pipeline import ConversionResult
from .report import write_json
from .settings import Settings, load_settings
from .views import FleetProgress, ProgressView, console, print_summary, warn_unread_pages

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Reconcile retirement plan documents across vendors.")

EXAMPLES = Path(__file__).resolve().parent / "examples"  # package data: `crosswalk demo` works when installed
BENCHMARKS = Path(__file__).resolve().parents[2] / "bench"  # in the source checkout, not the wheel


def _version(value: bool) -> None:
    if value:
        print(f"crosswalk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version.")) -> None:
    """crosswalk: BPD and Adoption Agreement crosswalks, source vendor → target vendor."""


def _settings(**flags: object) -> Settings:
    return load_settings({k: v for k, v in flags.items() if v is not None})


def _paths(source_bpd: Optional[Path], target_bpd: Optional[Path], source_aa: Optional[Path],
           target_aa: Optional[Path]) -> dict[str, Optional[Path]]:
    return {"source_bpd": source_bpd, "target_bpd": target_bpd, "source_aa": source_aa, "target_aa": target_aa}


T = TypeVar("T")


def run_interruptibly(make: Callable[[], Awaitable[T]]) -> T:
    """asyncio.run, where Ctrl-C or SIGTERM cancels the run's tasks at once and worker threads stop
    at their next page or batch (`interrupts`); it ends in `Interrupted` (exit 130 or 143). A
    second signal exits at once."""
    async def main() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_signal(name: str) -> None:
            if stop_requested.is_set():
                os._exit(143 if name == "SIGTERM" else 130)  # asked twice: stop now, the store is consistent
            print(f"crosswalk: {name}: stopping…", file=sys.stderr, flush=True)
            stop_requested.request(name)
            task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig.name)
        try:
            return await make()
        except asyncio.CancelledError:
            if stop_requested.is_set():
                raise Interrupted(stop_requested.signal_name) from None
            raise
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    stop_requested.clear()
    try:
        return asyncio.run(main())
    finally:
        if stop_requested.is_set():  # a thread may have ended with Interrupted while the loop was cancelled
            stop_requested.clear()


def execute_run(paths: dict[str, Optional[Path]], settings: Settings, out: Path, quiet: bool = False,
                password: Optional[str] = None, force: bool = False) -> ConversionResult:
    """Run a conversion (its documents read as it goes) and write its outputs into `out` (README, "Safety")."""
    started = time.time()
    inputs = ConversionInputs(**{k: v for k, v in paths.items() if v is not None}, password=password)
    incomplete = None
    with Crosswalker(settings) as cw, ProgressView(quiet) as view:
        try:
            result = run_interruptibly(lambda: cw.aconvert(inputs, out, force, on_stage=view))
        except ItemsFailedError as exc:  # outputs written: show them, then exit 5
            incomplete, result = exc, exc.result
            result.run_id = exc.run_id
    if not quiet:
        conv = result.conversion
        warn_unread_pages(conv.source_bpd, conv.target_bpd, conv.source_aa, conv.target_aa)
        print_summary(result, out, time.time() - started)
        console.print(f"run id: {result.run_id}  (crosswalk status {result.run_id})")
    if incomplete is not None:
        raise incomplete
    return result


@app.command()
def run(
    source_bpd: Optional[Path] = typer.Option(None, "--source-bpd", help="source Basic Plan Document"),
    target_bpd: Optional[Path] = typer.Option(None, "--target-bpd", help="target Basic Plan Document"),
    source_aa: Optional[Path] = typer.Option(None, "--source-aa", help="source Adoption Agreement"),
    target_aa: Optional[Path] = typer.Option(None, "--target-aa", help="target Adoption Agreement"),
    out: Path = typer.Option(..., "-o", "--out", help="output directory"),
    store: Optional[Path] = typer.Option(None, "--store", help="SQLite store (default: user cache)"),
    candidates_k: Optional[int] = typer.Option(None, "--candidates-k", help="candidates per source item"),
    match_threshold: Optional[float] = typer.Option(None, "--match-threshold", help="minimum match probability"),
    verifier: Optional[str] = typer.Option(None, "--verifier", help="local (default) or llm"),
    verify_mode: Optional[str] = typer.Option(None, "--verify-mode", help="llm: two_stage, per_source or per_pair"),
    llm_base_url: Optional[str] = typer.Option(None, "--llm-base-url", help="OpenAI-compatible endpoint"),
    llm_model: Optional[str] = typer.Option(None, "--llm-model", help="verification model"),
    password: Optional[str] = typer.Option(None, "--password", help="user password of encrypted PDFs (prefer "
                                           "--password-env: a password on the command line is in the shell history)"),
    password_env: Optional[str] = typer.Option(None, "--password-env", help="read the PDF password from this "
                                               "environment variable"),
    decisions: Optional[Path] = typer.Option(None, "--decisions",
                                             help="CSV of a reviewer's settled mappings (source_id,target_id[,note])"),
    force: bool = typer.Option(False, "--force", help="write into an OUT that holds other files (they are left "
                                                      "untouched; crosswalk's own files are replaced)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print nothing on success"),
) -> None:
    """Crosswalk a source plan document to a target: a BPD pair, an AA pair, or both."""
    settings = _settings(store_path=store, candidates_k=candidates_k, match_threshold=match_threshold,
                         verifier=verifier, verify_mode=verify_mode, llm_base_url=llm_base_url, llm_model=llm_model)
    paths = {**_paths(source_bpd, target_bpd, source_aa, target_aa), "decisions": decisions}
    execute_run(paths, settings, out, quiet, _password(password, password_env), force)


def _password(password: Optional[str], env: Optional[str]) -> Optional[str]:
    """The PDF password: --password, or the environment variable --password-env names."""
    if env is None:
        return password
    if password is not None:
        raise ConfigError("give --password or --password-env, not both")
    if env not in os.environ:
        raise ConfigError(f"--password-env {env}: that environment variable is not set")
    return os.environ[env]


@app.command()
def demo(out: Path = typer.Option(Path("demo-output"), "-o", "--out", help="output directory"),
         store: Optional[Path] = typer.Option(None, "--store", help="SQLite store"),
         force: bool = typer.Option(False, "--force", help="write into an OUT that holds other files"),
         source: str = typer.Option("pdf", "--from", help="pdf (the bundled PDFs) or json (the same documents as JSON)")) -> None:
    """Run the bundled example conversion (fictional plans) with the embedded default.

    From PDFs (default): the source BPD has a scanned page (OCR), the source AA is a filled
    PDF form. From JSON: the same documents with the ids the hand-written labels use."""
    if not EXAMPLES.is_dir():
        raise CrosswalkError(f"bundled examples not found at {EXAMPLES}")
    if source not in ("pdf", "json"):
        raise CrosswalkError(f"--from must be pdf or json, not {source!r}")
    settings = _settings(store_path=store)
    if source == "pdf":
        pdfs = EXAMPLES / "pdf"
        paths = _paths(pdfs / "source_bpd_scanned.pdf", pdfs / "target_bpd.pdf", pdfs / "source_aa_form.pdf",
                       pdfs / "target_aa.pdf")
    else:
        paths = _paths(EXAMPLES / "source_bpd.json", EXAMPLES / "target_bpd.json",
                       EXAMPLES / "source_aa_filled.json", EXAMPLES / "target_aa.json")
    execute_run(paths, settings, out, force=force)


@app.command("fake-api")
def fake_api(profile: str = typer.Option("fast", help="poc, faults, fast or tight"),
             host: str = typer.Option("127.0.0.1", help="loopback address to bind"),
             port: int = typer.Option(0, help="0 picks a free port"),
             oracle: Optional[Path] = typer.Option(None, help="gold JSONL: verdicts follow it"),
             oracle_error_rate: float = typer.Option(0.0, help="share of oracle verdicts made wrong on purpose"),
             api_key: Optional[str] = typer.Option(None, help="require this bearer key (tests of 401)"),
             time_scale: Optional[float] = typer.Option(None, help="simulated seconds per real second"),
             seed: int = typer.Option(0, help="random seed for latencies, faults and oracle errors"),
             vision_fixtures: Optional[Path] = typer.Option(None, help="JSON: page image base64 -> reply")) -> None:
    """Serve the simulated OpenAI-compatible API (prints its URL; Ctrl-C stops it)."""
    import dataclasses

    from .testing.fake_api import PROFILES, FakeAPI

    if profile not in PROFILES:
        raise CrosswalkError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    gold = None
    if oracle is not None:
        from .evaluate import load_gold

        gold = {source: set(item.targets) for source, item in load_gold(oracle).items()}

    async def serve() -> None:
        spec = PROFILES[profile]
        if time_scale:
            spec = dataclasses.replace(spec, time_scale=time_scale)
        fixtures = json.loads(vision_fixtures.read_text()) if vision_fixtures else None
        api = FakeAPI(spec, oracle=gold, oracle_error_rate=oracle_error_rate, api_key=api_key, seed=seed,
                      vision_fixtures=fixtures)
        url = await api.start(host, port)
        print(url, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await api.stop()

    asyncio.run(serve())


@app.command()
def report(out: Path = typer.Argument(..., help="output directory of a finished run"),
           store: Optional[Path] = typer.Option(None, "--store", help="SQLite store")) -> None:
    """Rebuild a finished run's outputs with the review decisions in the store applied (confirmations,
    proposed target AA, variances, exception log, workbook.xlsx and report.html); nothing is re-verified."""
    with Crosswalker(_settings(store_path=store)) as cw:
        summary, failed = run_interruptibly(lambda: cw.arebuild(out))
    if failed:
        raise ItemsFailedError("; ".join(f"{name} could not be written ({why})" for name, why in failed.items()))
    console.print(f"rebuilt {out} ({summary.get('confirmation', {})}); workbook: {out / 'workbook.xlsx'}  "
                  f"report: {out / 'report.html'}")


@app.command()
def review(out: Path = typer.Argument(..., help="output directory of a finished run"),
           port: int = typer.Option(0, "--port", help="port on 127.0.0.1 (default: a free one)"),
           no_browser: bool = typer.Option(False, "--no-browser", help="print the URL only"),
           store: Optional[Path] = typer.Option(None, "--store", help="SQLite store")) -> None:
    """Review a finished run in a local web app (127.0.0.1 only; the URL carries a session token).

    Every decision is saved in the store at once; `crosswalk report OUT` (or the app's Recompute)
    rewrites the outputs from them, and the next run of the same documents starts with them."""
    import webbrowser

    def ready(url: str) -> None:
        print(f"reviewing {out} at {url}", flush=True)
        print("decisions are saved as you go; Ctrl-C stops the app", flush=True)
        if not no_browser:
            webbrowser.open(url)

    with Crosswalker(_settings(store_path=store)) as cw:
        run_interruptibly(lambda: cw.areview(out, port, ready))


@app.command()
def status(run: str = typer.Argument(..., help="run id (or its start), or the output directory"),
           store: Optional[Path] = typer.Option(None, "--store", help="SQLite store")) -> None:
    """Show a run's state and the stages it has finished (a killed run resumes with the same command)."""
    with Crosswalker(_settings(store_path=store)) as cw:
        r = cw.status(run)
    progress, cached = r["progress"], r["cached"]
    console.print(f"[bold]{r['run_id']}[/bold]  {r['status']}  attempts {r.get('attempts', 1)}  output {r['output_dir']}")
    console.print(f"started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(r['started']))}"
                  + (f", finished {time.strftime('%H:%M:%S', time.localtime(r['finished']))}" if r.get("finished") else ""))
    table = Table(title="stages finished")
    for col in ("stage", "items", "seconds", "calls", "cache hits", "cost $"):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for stage, info in progress.items():
        table.add_row(stage, str(info.get("items", "")), f"{info.get('duration_s', 0):.2f}", str(info.get("api_calls", 0)),
                      str(info.get("cache_hits", 0)), f"{info.get('cost_usd', 0):.4f}")
    console.print(table)
    console.print(f"store holds {cached['embedding']} embeddings and {cached['verdict']} LLM verdicts (shared by all runs)")


@app.command()
def batch(manifest: Path = typer.Argument(..., help="TOML manifest: [settings] and [[conversion]] entries"),
          store: Optional[Path] = typer.Option(None, "--store", help="SQLite store"),
          quiet: bool = typer.Option(False, "--quiet", "-q")) -> None:
    """Run many conversions at once under one rate-limit budget; one failing does not stop the others."""
    started = time.time()
    with Crosswalker(store_path=store) as cw, ProgressView(quiet) as view:
        items = run_interruptibly(lambda: cw.abatch(manifest, on_stage=view))
    summary = {"manifest": str(manifest), "seconds": round(time.time() - started, 2),
               "conversions": [{"name": i.name, "status": i.status, "run_id": i.run_id, "out": str(i.out),
                                "seconds": i.seconds, "error": i.error, "summary": i.summary} for i in items]}
    summary_path = manifest.with_name(manifest.stem + ".summary.json")
    write_json(summary_path, summary)
    table = Table(title=f"batch: {len(items)} conversions in {summary['seconds']:.1f} s")
    for col in ("conversion", "status", "seconds", "output / error"):
        table.add_column(col)
    for i in items:
        table.add_row(i.name, i.status, f"{i.seconds:.1f}", i.error or str(i.out))
    console.print(table)
    console.print(f"batch summary: {summary_path}")
    failed = [i.name for i in items if i.status != "finished"]
    if failed:
        raise CrosswalkError(f"{len(failed)} of {len(items)} conversions failed: {', '.join(failed)}")


@app.command()
def fleet(manifest: Path = typer.Argument(..., help="TOML manifest: [fleet] vendor pair and plans, optional [settings]"),
          out: Path = typer.Option(..., "-o", "--out", help="folder for OUT/<plan>/ and the fleet summary"),
          workers: Optional[int] = typer.Option(None, "--workers", help="run plans on a local Dask cluster of N "
                                                "worker processes (needs the dask extra)"),
          scheduler: Optional[str] = typer.Option(None, "--scheduler", help="run plans on an existing Dask cluster "
                                                  "(tcp://HOST:PORT)"),
          vision: Optional[bool] = typer.Option(None, "--vision/--no-vision", help="scanned plan pages go to the "
                                                "vision model (default: the manifest's, else OCR)"),
          store: Optional[Path] = typer.Option(None, "--store", help="SQLite store"),
          force: bool = typer.Option(False, "--force", help="write into an OUT holding other files (never touched)"),
          quiet: bool = typer.Option(False, "--quiet", "-q")) -> None:
    """Many plans between the same two vendors: the shared crosswalks once, then each plan's filled AA.

    A rerun skips plans already finished with the same inputs. Exit 5 when any plan failed
    (OUT/fleet_summary.csv says why); the others are written."""
    with Crosswalker(store_path=store) as cw:
        progress = FleetProgress(quiet)
        result = run_interruptibly(lambda: cw.afleet(manifest, out, workers=workers, scheduler=scheduler,
                                                     vision=vision, force=force, on_progress=progress))
    c = result.counts
    console.print(f"fleet: {c['finished']} plans done, {c['skipped']} finished earlier, {c['failed']} failed; "
                  f"shared work {result.shared_s:.1f} s, plans {result.plans_s:.1f} s, API ${result.cost_usd:.2f}")
    console.print(f"fleet summary: {out / 'fleet_summary.csv'} and {out / 'fleet.html'}")
    if result.failed:
        raise ItemsFailedError(f"{len(result.failed)} of {c['plans']} plans failed: "
                               + "; ".join(f"{r['plan']}: {r['reason']}" for r in result.failed[:3])
                               + (" …" if len(result.failed) > 3 else ""))


@app.command()
def extract(file: Path = typer.Argument(..., help="a PDF (or any importable file)"),
            out: Path = typer.Option(..., "-o", "--out", help="where to write crosswalk's JSON"),
            password: Optional[str] = typer.Option(None, "--password", help="user password, if the PDF needs one"),
            password_env: Optional[str] = typer.Option(None, "--password-env", help="read the password from this "
                                                       "environment variable"),
            vision: bool = typer.Option(False, "--vision", help="pages without a text layer go to the vision model "
                                                                "(needs an API key) instead of OCR"),
            store: Optional[Path] = typer.Option(None, "--store", help="SQLite store (extractions are cached)")) -> None:
    """Extract a document's provisions or elections into crosswalk's JSON format."""
    from .extract import save_document

    password = _password(password, password_env)
    _check_extract_output(out, file)
    with Crosswalker(_settings(store_path=store)) as cw:
        doc = run_interruptibly(lambda: cw.aextract(file, password, vision))
    tmp = out.with_name(f".{out.name}.crosswalk-tmp")
    try:
        save_document(doc, tmp)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{out}: cannot write: {exc.strerror or exc}") from None
    warn_unread_pages(doc)
    console.print(f"{file}: {len(doc.items)} {'provisions' if doc.role == 'bpd' else 'elections'} → {out}")


def _check_extract_output(out: Path, source: Path) -> None:
    """`extract -o FILE` replaces FILE only when it is a crosswalk document JSON (ours), never the input."""
    if str(out).strip() == "" or out.is_dir():
        raise OutputError(f"{out}: -o needs a file name for the extracted JSON")
    if source.exists() and out.exists() and out.resolve() == source.resolve():
        raise OutputError(f"{out}: is the input itself; choose another output file")
    if out.exists():
        from .extract import DOCUMENT_FORMAT

        try:
            ours = json.loads(out.read_text(encoding="utf-8")).get("format") == DOCUMENT_FORMAT
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours:
            raise OutputError(f"{out}: exists and is not a crosswalk document JSON; crosswalk will not replace it")


@app.command()
def inspect(file: Path = typer.Argument(..., help="a document to import"),
            samples: int = typer.Option(3, help="sample records to show"),
            password: Optional[str] = typer.Option(None, "--password", help="user password of an encrypted PDF"),
            password_env: Optional[str] = typer.Option(None, "--password-env", help="read the password from this "
                                                       "environment variable")) -> None:
    """Show what crosswalk imports from FILE: counts per type, sample records, and for PDFs each page's path."""
    password = _password(password, password_env)
    with Crosswalker() as cw:
        doc = cw.inspect(file, password, cached=False)  # what is read now, not a cached copy
    if doc.page_paths:
        pages = Table(title="pages")
        for col in ("page", "items", "read from"):
            pages.add_column(col)
        per_page: dict[int, int] = {}
        for item in doc.items:
            per_page[item.page or 0] = per_page.get(item.page or 0, 0) + 1
        for n, path in enumerate(doc.page_paths, 1):
            pages.add_row(str(n), str(per_page.get(n, 0)), path)
        console.print(pages)
    types = item_types(doc)
    console.print(f"[bold]{doc.id}[/bold]  role={doc.role.upper()}  vendor={doc.vendor or '?'}  pages={doc.pages or '?'}  "
                  f"{'provisions' if doc.role == 'bpd' else 'elections'}={len(doc.items)}")
    table = Table(title="by type")
    table.add_column("type")
    table.add_column("count", justify="right")
    for t, n in sorted(types.items(), key=lambda kv: -kv[1]):
        table.add_row(t, str(n))
    console.print(table)
    for item in doc.items[:samples]:
        console.print(json.dumps(item.model_dump(mode="json"), ensure_ascii=False)[:600], markup=False, highlight=False)


@app.command("eval")
def eval_cmd(crosswalk_json: Path = typer.Argument(..., help="a *_crosswalk.json written by `run`"),
             gold: Path = typer.Option(..., "--gold", help="gold labels (JSONL)"),
             worst: int = typer.Option(10, help="misses to list")) -> None:
    """Score a crosswalk against gold labels: precision, recall, F1, none-accuracy, worst misses."""
    s, data, reviewed = Crosswalker.evaluate(crosswalk_json, gold)
    confidence = {m["source_id"]: m.get("confidence", 0.0) for m in data["mappings"]}
    console.print(f"precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}  "
                  f"none-accuracy {s.none_accuracy:.3f}  (tp {s.tp}, fp {s.fp}, fn {s.fn}, none items {s.none_total})")
    if reviewed:  # these score the reviewer, not the matcher
        console.print(f"note: {reviewed} of the labelled items were set by a reviewer's decision (--decisions)")
    misses = sorted(s.misses, key=lambda m: -confidence.get(m["source"], 0.0))[:worst]
    if misses:
        table = Table(title=f"worst misses (most confident first, {len(s.misses)} in all)")
        for col in ("source", "predicted", "gold", "relation", "confidence"):
            table.add_column(col)
        for m in misses:
            table.add_row(m["source"], m["predicted"] or "—", ", ".join(m["gold"]) or "(none)", m["relation"],
                          f"{confidence.get(m['source'], 0.0):.2f}")
        console.print(table)


@app.command()
def plan(
    source_bpd: Optional[Path] = typer.Option(None, "--source-bpd"),
    target_bpd: Optional[Path] = typer.Option(None, "--target-bpd"),
    source_aa: Optional[Path] = typer.Option(None, "--source-aa"),
    target_aa: Optional[Path] = typer.Option(None, "--target-aa"),
    candidates_k: Optional[int] = typer.Option(None, "--candidates-k"),
) -> None:
    """Count candidate pairs before paying to score them: pairs in, pairs kept, verifier calls."""
    settings = _settings(candidates_k=candidates_k)
    inputs = ConversionInputs(**{k: v for k, v in _paths(source_bpd, target_bpd, source_aa, target_aa).items() if v})
    with Crosswalker(settings) as cw:
        counts = cw.plan(inputs)
    table = Table(title=f"candidate plan (k={settings.candidates_k})")
    for col in ("crosswalk", "source", "target", "pairs in", "pairs kept", "calls (per pair)", "calls (per source)",
                "memory", "cold time"):
        table.add_column(col, justify="right")
    warnings = []
    for kind, c in counts.items():
        table.add_row(kind.upper(), str(c["source_items"]), str(c["target_items"]), f"{c['pairs_in']:,}",
                      f"{c['pairs_kept']:,}", f"{c['verifier_calls_per_pair']:,}", f"{c['verifier_calls_per_source']:,}",
                      f"{c['memory_mb']:,} MB", f"~{c['cold_seconds']:,} s")
        if c["too_large"]:
            warnings.append(c["too_large"])
    console.print(table)
    console.print("memory: the score matrices at their peak; cold time: local reading of JSON, embedding and "
                  "scoring with nothing cached (2 cores), before any API call")
    for warning in warnings:
        console.print(f"[red]will not fit: {warning}[/red]", highlight=False)


@app.command()
def bench(name: str = typer.Argument(..., help="pipeline, quality, extraction, llm, client, review or fleet"),
          profile: str = typer.Option("poc", "--profile", help="simulated API profile (pipeline: poc, which the "
                                      "baseline is calibrated on)"),
          json_out: bool = typer.Option(False, "--json", help="print the figures as JSON"),
          shared: Optional[Path] = typer.Option(None, "--shared", help="the shared corpus (default ../shared)"),
          gold: Optional[list[Path]] = typer.Option(None, "--gold", help="quality, review, llm: labels to measure on "
                                                    "(once per kind, or one file with both; default the dev labels)"),
          oracle: Optional[list[Path]] = typer.Option(None, "--oracle", help="llm: the labels the oracle answers "
                                                      "from (the same as --gold there)"),
          plans: Optional[int] = typer.Option(None, "--plans", help="fleet: how many plans to generate")) -> None:
    """Run a benchmark from the source checkout's bench/ (figures printed, never asserted)."""
    import subprocess

    script = BENCHMARKS / f"{name}.py"
    if name not in ("pipeline", "quality", "extraction", "llm", "client", "review", "fleet") or not script.is_file():
        raise CrosswalkError(f"no benchmark {name!r} in {BENCHMARKS} (choose pipeline, quality, extraction, llm, client, "
                             "review or fleet; "
                             "benchmarks ship with the source checkout)")
    if name == "pipeline" and profile != "poc":
        raise CrosswalkError(f"the pipeline benchmark runs on the 'poc' profile only, not {profile!r}")
    if gold and name not in ("quality", "review", "llm"):
        raise CrosswalkError("--gold is for the quality, review and llm benchmarks")
    if oracle and name != "llm":
        raise CrosswalkError("--oracle is for the llm benchmark")
    for path in [*(gold or ()), *(oracle or ())]:
        if not path.is_file():
            raise InputError(path, "no such labels file")
    args = [sys.executable, str(script)] + (["--json"] if json_out else []) + (["--shared", str(shared)] if shared else [])
    flag = "--oracle" if name == "llm" else "--gold"
    args += [part for path in [*(gold or ()), *(oracle or ())] for part in (flag, str(path))]
    if plans is not None:
        if name != "fleet":
            raise CrosswalkError("--plans is for the fleet benchmark")
        args += ["--plans", str(plans)]
    raise typer.Exit(subprocess.run(args).returncode)


def main() -> None:
    """Console-script entry point: user errors become one line and an exit code."""
    signal.signal(signal.SIGTERM, _terminate)  # outside the event loop too: exit 143, not a silent kill
    try:
        # without standalone mode click returns a `typer.Exit`'s code instead of exiting with it
        # (`crosswalk bench` passes its script's exit code on that way)
        code = app(standalone_mode=False)
    except Interrupted as exc:
        print(f"crosswalk: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except CrosswalkError as exc:
        print(f"crosswalk: error: {exc}", file=sys.stderr)  # plain: one line, never wrapped
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print(f"crosswalk: {Interrupted('SIGINT')}", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # usage errors, --help and the like arrive here with standalone_mode=False
        code = _usage_exit_code(exc)
        if code is None:
            raise
        sys.exit(code)
    if isinstance(code, int) and code:
        sys.exit(code)


def _terminate(signum: int, frame: object) -> None:
    raise Interrupted("SIGTERM")


def _usage_exit_code(exc: Exception) -> int | None:
    """The exit code of a command-line usage error (shown as click shows it), of --help and of
    Ctrl-C at a prompt; None for anything else.

    Newer typer releases carry their own copy of click, whose exceptions are not `click`'s (and
    click itself may not be installed), so usage errors are recognised by what they do: every
    click usage error, either copy, can `show()` itself and has an `exit_code`."""
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, typer.Abort) or type(exc).__name__ == "Abort":  # click turns Ctrl-C into Abort
        print(f"crosswalk: {Interrupted('SIGINT')}", file=sys.stderr)
        return 130
    if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
        exc.show()
        return exc.exit_code
    return None
