"""Fleets (#21): the vendor pair's crosswalks once, then each plan's filled AA; Dask workers on loopback.

Plans are generated from the bundled example AA template (random valid answers, rendered as
PDFs); the fleet runs through the CLI in real processes, or through `run_fleet` with a real
Dask scheduler and real worker processes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crosswalk.examples.make_plans import make_plans
from crosswalk.extract import load_document
from crosswalk.fleet import fill_template, read_fleet_manifest, run_fleet
from crosswalk.settings import load_settings

from .conftest import EXAMPLES

PDFS = EXAMPLES / "pdf"
pytestmark = pytest.mark.slow


def write_fleet(tmp_path: Path, plans: int = 3, scanned_share: float = 0.0, vision: bool = False, seed: int = 0) -> Path:
    template = load_document(EXAMPLES / "source_aa.json")
    make_plans(template, plans, tmp_path / "plans", scanned_share=scanned_share, seed=seed)
    manifest = tmp_path / "fleet.toml"
    manifest.write_text(f"""[fleet]
source_bpd = "{EXAMPLES / 'source_bpd.json'}"
target_bpd = "{EXAMPLES / 'target_bpd.json'}"
source_aa = "{PDFS / 'source_aa.pdf'}"
target_aa = "{EXAMPLES / 'target_aa.json'}"
plans = "plans"
vision = {'true' if vision else 'false'}
""")
    return manifest


def cli(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crosswalk", *map(str, args)], capture_output=True, text=True,
                          timeout=600, **kw)


def summary(out: Path) -> dict[str, dict]:
    return {row["plan"]: row for row in json.loads((out / "fleet_summary.json").read_text())["plans"]}


def test_answers_land_on_the_template_questions():
    """The plan's answers are put on the template's elections (linked by number and wording, not by id)."""
    template = load_document(PDFS / "source_aa.pdf")
    plan = load_document(PDFS / "source_aa_filled.pdf")
    filled, unlinked = fill_template(template, plan)
    assert [e.id for e in filled.elections] == [e.id for e in template.elections]
    chosen = {e.question_number: sorted(o.label for o in e.options if o.is_selected) for e in filled.elections}
    expected = {e.question_number: sorted(o.label for o in e.options if o.is_selected) for e in plan.elections}
    assert chosen == expected and any(chosen.values())
    assert unlinked == []
    stray = plan.model_copy(update={"elections": plan.elections + (plan.elections[0].model_copy(
        update={"id": "x", "question_number": "99.9", "question_text": "A question this template never asked?"}),)})
    assert len(fill_template(template, stray)[1]) == 1


def test_fleet_writes_each_plan_fails_a_broken_one_alone_and_resumes(tmp_path):
    manifest = write_fleet(tmp_path, plans=3)
    (tmp_path / "plans" / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    out, store = tmp_path / "out", tmp_path / "s.sqlite"
    first = cli("fleet", manifest, "-o", out, "--store", store)
    assert first.returncode == 5, first.stderr
    assert "Traceback" not in first.stderr and "broken" in first.stderr
    rows = summary(out)
    assert [rows[p]["status"] for p in ("plan-0000", "plan-0001", "plan-0002")] == ["finished"] * 3
    assert rows["broken"]["status"] == "failed" and "broken.pdf" in rows["broken"]["reason"]
    assert not (out / "broken").exists()
    for name in ("plan-0000", "plan-0001", "plan-0002"):
        record = json.loads((out / name / "run.json").read_text())
        assert record["inputs"]["plan"]["path"].endswith(f"{name}.pdf")
        assert (out / name / "proposed_target_aa.json").is_file() and (out / name / "report.html").is_file()
    # each plan's answers reach its own proposed target AA
    proposals = [json.loads((out / n / "proposed_target_aa.json").read_text())["proposals"] for n in ("plan-0000", "plan-0001")]
    assert proposals[0] != proposals[1]
    assert "plan-0000" in (out / "fleet_summary.csv").read_text() and (out / "fleet.html").is_file()
    stamps = {n: (out / n / "run.json").stat().st_mtime_ns for n in ("plan-0000", "plan-0001", "plan-0002")}
    again = cli("fleet", manifest, "-o", out, "--store", store)
    assert again.returncode == 5
    rows = summary(out)
    assert [rows[p]["status"] for p in stamps] == ["skipped"] * 3
    assert {n: (out / n / "run.json").stat().st_mtime_ns for n in stamps} == stamps


def test_fleet_refuses_an_out_holding_other_files(tmp_path):
    manifest = write_fleet(tmp_path, plans=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    proc = cli("fleet", manifest, "-o", out, "--store", tmp_path / "s.sqlite")
    assert proc.returncode == 2 and "notes.txt" in proc.stderr
    assert (out / "notes.txt").read_text() == "mine" and not (out / "plan-0000").exists()


def test_an_interrupted_fleet_resumes_without_redoing_finished_plans(tmp_path):
    # enough plans that SIGINT lands mid-fleet: 6 example plans (~0.15 s each) were all done before
    # the signal arrived once in CI, and the test then saw a process past its interruptible part
    plans = 30
    manifest = write_fleet(tmp_path, plans=plans)
    out, store = tmp_path / "out", tmp_path / "s.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "crosswalk", "fleet", str(manifest), "-o", str(out), "--store",
                             str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (out / "plan-0000" / "run.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() is not None else ""
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    done = {p.name for p in out.iterdir() if (p / "run.json").is_file()}
    assert "plan-0000" in done and len(done) < plans
    stamps = {n: (out / n / "run.json").stat().st_mtime_ns for n in done}
    again = cli("fleet", manifest, "-o", out, "--store", store)
    assert again.returncode == 0, again.stderr
    rows = summary(out)
    assert {n for n, r in rows.items() if r["status"] == "skipped"} == done
    assert {r["status"] for n, r in rows.items() if n not in done} == {"finished"}
    assert {n: (out / n / "run.json").stat().st_mtime_ns for n in done} == stamps


def test_two_dask_workers_one_killed_mid_fleet_lose_no_plan(tmp_path):
    """A real scheduler and two worker processes on loopback (`--scheduler`); one worker is killed
    (SIGKILL) once the first plan is written: every plan still finishes, each exactly once."""
    distributed = pytest.importorskip("distributed")
    manifest = read_fleet_manifest(write_fleet(tmp_path, plans=8))
    settings = load_settings({"store_path": tmp_path / "s.sqlite"})
    out = tmp_path / "out"

    async def go():
        async with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, asynchronous=True,
                                            host="127.0.0.1", dashboard_address=None, silence_logs=40) as cluster:
            async with distributed.Client(cluster, asynchronous=True) as client:
                pids = await client.run(os.getpid)
            killed = []

            def on_progress(event):
                if event["event"] == "plan" and not killed:
                    victim = next(pid for pid in pids.values() if f"pid {pid}" != event.get("worker"))
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
            result = await run_fleet(manifest, settings, out, scheduler=cluster.scheduler_address,
                                     on_progress=on_progress)
            return result, killed
    result, killed = asyncio.run(go())
    assert killed
    assert sorted(r["plan"] for r in result.rows) == [f"plan-{n:04d}" for n in range(8)]
    assert {r["status"] for r in result.rows} == {"finished"}, result.rows
    assert all((out / r["plan"] / "run.json").is_file() for r in result.rows)


def test_scanned_plans_go_to_the_vision_model_once_through_the_driver(tmp_path, monkeypatch):
    """vision = true: a scanned plan's pages are rendered by the worker, read by the (simulated) vision
    model through the driver's client, and stored: a second fleet into a new OUT asks nothing."""
    from crosswalk.examples.make_plans import vision_fixtures
    from crosswalk.testing.fake_api import FakeAPI, FakeAPIThread

    manifest_path = write_fleet(tmp_path, plans=2, scanned_share=0.5, vision=True)
    scanned = tmp_path / "plans" / "plan-0001.pdf"
    fixtures = vision_fixtures(scanned, tmp_path / ".plan-0001.text.pdf")
    monkeypatch.setenv("CW_FLEET_KEY", "k")
    with FakeAPIThread(FakeAPI("fast", vision_fixtures=fixtures)) as api:
        settings = load_settings({"store_path": tmp_path / "s.sqlite", "llm_base_url": api.url,
                                  "api_key_env": "CW_FLEET_KEY"})
        manifest = read_fleet_manifest(manifest_path)
        result = asyncio.run(run_fleet(manifest, settings, tmp_path / "out"))
        asked = api.counters.requests
        again = asyncio.run(run_fleet(manifest, settings, tmp_path / "out2"))
        assert api.counters.requests == asked
    assert {r["status"] for r in result.rows} == {"finished"}, result.rows
    assert result.vision_pages == asked > 0 and again.vision_pages == asked
    record = json.loads((tmp_path / "out" / "plan-0001" / "run.json").read_text())
    assert set(record["status_counts"]["fleet"]["page_paths"]) == {"vision (gpt-5-nano)"}
    from crosswalk.extract.pdf import extract_pdf
    from crosswalk.fleet.plan import _answered

    rows = summary(tmp_path / "out")
    typed = extract_pdf(tmp_path / ".plan-0001.text.pdf")  # what the simulated vision model was given to read back
    assert rows["plan-0001"]["answered"] == sum(_answered(e) for e in typed.elections) > 0
    assert rows["plan-0001"]["unlinked_answers"] == 0


def test_manifest_errors_name_the_file_and_plan_names_stay_apart(tmp_path):
    from crosswalk.errors import InputError
    from crosswalk.fleet.manifest import plan_name

    assert plan_name(Path("Acme Co (2027).pdf")) == "Acme_Co_2027"
    assert plan_name(Path("fleet.html.pdf")) == "fleet.html-plan"  # never the summary page's name
    bad = tmp_path / "fleet.toml"
    bad.write_text("[settings]\nverifier = 'local'\n")
    with pytest.raises(InputError, match="no \\[fleet\\] table"):
        read_fleet_manifest(bad)
    manifest = write_fleet(tmp_path, plans=1)
    (tmp_path / "plans" / "plan-0000.json").write_text("{}")  # same name as plan-0000.pdf
    with pytest.raises(InputError, match="would share the output folder"):
        read_fleet_manifest(manifest)
