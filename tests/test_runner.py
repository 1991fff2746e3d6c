"""Runs as an operator sees them: resume after kill -9, status, batches, overlap of the two steps, metrics."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from crosswalk.errors import InputError
from crosswalk.extract import load_document
from crosswalk.testing.fake_api import FakeAPIProcess
from crosswalk.pipeline import Conversion, run_conversion
from crosswalk.settings import load_settings
from crosswalk.store import Store
from crosswalk.metrics import RunMetrics, StageMetrics, bottlenecks, recommendation

from .conftest import EXAMPLES

pytestmark = pytest.mark.slow  # real processes and servers: the full tier (`make test`)


DOCS = ["--source-bpd", EXAMPLES / "source_bpd.json", "--target-bpd", EXAMPLES / "target_bpd.json",
        "--source-aa", EXAMPLES / "source_aa_filled.json", "--target-aa", EXAMPLES / "target_aa.json"]


def cli(*args, env=None, **kw):
    return [sys.executable, "-m", "crosswalk", *map(str, args)]


def llm_env(url: str, concurrency: int) -> dict:
    return {**os.environ, "CROSSWALK_LLM_BASE_URL": url, "CROSSWALK_VERIFIER": "llm",
            "CROSSWALK_VERIFY_MODE": "per_source", "CROSSWALK_MAX_CONCURRENCY": str(concurrency),
            "CROSSWALK_RATE_LIMIT_PERIOD_S": "1"}


def test_kill_9_then_resume_pays_only_for_what_is_missing(tmp_path, session_store_path):
    store = tmp_path / "store.sqlite"
    out = tmp_path / "out"
    # warm the embeddings into this store first, so the killed run spends its time on paid calls
    subprocess.run(cli("run", *DOCS, "-o", tmp_path / "warm", "--store", store, "-q"), check=True, timeout=300)
    with FakeAPIProcess("poc", time_scale=10.0) as api:  # 5 s calls take 0.5 s
        env = llm_env(api.url, 4)
        proc = subprocess.Popen(cli("run", *DOCS, "-o", out, "--store", store, "-q"), env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while api.stats()["requests"] < 12 and time.time() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        first = api.stats()["requests"]
        # nothing half-written: a killed run leaves at most its lock file (OUT is claimed at the start)
        assert 0 < first < 76 and (not out.exists() or [p.name for p in out.iterdir()] == [".crosswalk.lock"])
        done = subprocess.run(cli("run", *DOCS, "-o", out, "--store", store, "-q"), env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        second = api.stats()["requests"] - first
    assert second <= 76 - first + 4   # at most the 4 calls in flight at the kill are asked again
    assert first + second >= 76
    status = subprocess.run(cli("status", out, "--store", store), capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and "finished" in status.stdout and "attempts 2" in status.stdout
    assert "bpd:verify" in status.stdout


def test_both_crosswalks_run_concurrently(tmp_path):
    store = tmp_path / "s.sqlite"
    # warm the local embeddings (the local model embeds one batch at a time), so both crosswalks
    # reach verification together and the test watches the API phase, where overlap matters
    subprocess.run(cli("run", *DOCS, "-o", tmp_path / "warm", "--store", store, "-q"), check=True, timeout=300)
    with FakeAPIProcess("poc", time_scale=10.0) as api:  # 5 s calls take 0.5 s: verification lasts seconds
        proc = subprocess.run(cli("run", *DOCS, "-o", tmp_path / "out", "--store", store, "-q"),
                              env=llm_env(api.url, 4), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    stages = {s["operation"]: s for s in json.loads((tmp_path / "out" / "metrics.json").read_text())["stages"]}
    bpd, aa = stages["bpd:verify"], stages["aa:verify"]
    assert bpd["start"] < aa["end"] and aa["start"] < bpd["end"]          # the two steps overlap
    assert stages["confirm+merge"]["start"] >= max(bpd["end"], aa["end"])  # step 3 waits for both
    assert bpd["api_calls"] > 0 and aa["api_calls"] > 0


def _example(name: str):
    return load_document(EXAMPLES / name)


def test_a_crosswalk_starts_as_soon_as_its_two_documents_are_read(session_store_path):
    """The BPD crosswalk runs to the end while the AA documents are still being read."""
    async def scenario():
        loop = asyncio.get_running_loop()
        source_aa, target_aa = loop.create_future(), loop.create_future()
        conv = Conversion(_example("source_bpd.json"), _example("target_bpd.json"), source_aa, target_aa)
        events = []
        settings = load_settings({"store_path": session_store_path}, env={})
        with Store.open(session_store_path) as store:
            run = asyncio.ensure_future(run_conversion(conv, settings, store,
                                                       on_stage=lambda stage, info: events.append((stage, info["state"]))))
            for _ in range(3000):
                if ("bpd:verify", "done") in events or run.done():
                    break
                await asyncio.sleep(0.01)
            assert ("bpd:verify", "done") in events
            assert not any(stage.startswith("aa:") for stage, _ in events)  # nothing of the AA pair yet
            source_aa.set_result(_example("source_aa_filled.json"))
            target_aa.set_result(_example("target_aa.json"))
            result = await run
        assert set(result.results) == {"bpd", "aa"} and result.instance is not None
        assert result.conversion.source_aa.id == "keystone-aa-acme"
        assert [s for s, state in events if state == "done"][-1] == "confirm+merge"
    asyncio.run(scenario())


def test_a_document_that_cannot_be_read_stops_the_run_and_its_other_crosswalk(session_store_path):
    async def scenario():
        loop = asyncio.get_running_loop()
        target_bpd = loop.create_future()  # never read: the run must not wait for it
        source_aa = loop.create_future()
        conv = Conversion(_example("source_bpd.json"), target_bpd, source_aa, _example("target_aa.json"))
        settings = load_settings({"store_path": session_store_path}, env={})
        with Store.open(session_store_path) as store:
            run = asyncio.ensure_future(run_conversion(conv, settings, store))
            await asyncio.sleep(0.05)
            source_aa.set_exception(InputError("plan.pdf", "given as --source-aa but it is a BPD document"))
            with pytest.raises(InputError, match="plan.pdf"):
                await run
        assert target_bpd.cancelled()
        assert asyncio.all_tasks() == {asyncio.current_task()}  # no crosswalk left running
    asyncio.run(scenario())


def test_batch_isolates_a_failing_conversion(tmp_path, session_store_path):
    manifest = tmp_path / "batch.toml"
    rel = lambda name: os.path.relpath(EXAMPLES / name, tmp_path)
    manifest.write_text(f"""
[settings]
candidates_k = 15

[[conversion]]
name = "acme"
out = "out/acme"
source_bpd = "{rel('source_bpd.json')}"
target_bpd = "{rel('target_bpd.json')}"
source_aa = "{rel('source_aa_filled.json')}"
target_aa = "{rel('target_aa.json')}"

[[conversion]]
name = "broken"
out = "out/broken"
source_bpd = "missing.json"
target_bpd = "{rel('target_bpd.json')}"

[[conversion]]
name = "aa-only"
out = "out/aa-only"
source_aa = "{rel('source_aa.json')}"
target_aa = "{rel('target_aa.json')}"
""")
    proc = subprocess.run(cli("batch", manifest, "--store", session_store_path, "-q"), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1 and "1 of 3 conversions failed: broken" in proc.stderr
    summary = json.loads((tmp_path / "batch.summary.json").read_text())
    status = {c["name"]: c for c in summary["conversions"]}
    assert status["acme"]["status"] == "finished" and status["aa-only"]["status"] == "finished"
    assert "missing.json: file not found" in status["broken"]["error"]
    assert (tmp_path / "out" / "acme" / "report.html").exists() and not (tmp_path / "out" / "broken").exists()
    run = json.loads((tmp_path / "out" / "acme" / "run.json").read_text())
    assert run["settings"]["candidates_k"] == 15


def test_metrics_arithmetic_and_bottlenecks():
    run = RunMetrics()
    a = StageMetrics("bpd:verify", start=100.0, end=160.0, items=120, api_calls=130, rate_limit_hits=3)
    b = StageMetrics("aa:verify", start=110.0, end=130.0, items=40, api_calls=40, configured_concurrency=16,
                     avg_concurrency=2.0)
    c = StageMetrics("bpd:embed", start=100.0, end=101.0, items=500)
    run.stages = [a, b, c]
    assert a.duration_s == 60.0 and a.items_per_s == pytest.approx(2.0)
    d = run.as_dict()
    assert d["wall_s"] == 60.0 and d["api_calls"] == 170
    found = bottlenecks(run)
    assert [f["operation"] for f in found] == ["bpd:verify"]  # 100% of the time; aa 33%, embed 2%
    assert "rate limits" in found[0]["recommendation"]
    assert "under-used" in recommendation(b)
    assert "low throughput" in recommendation(StageMetrics("x", start=0, end=10, items=5))
    assert recommendation(c) == "performance is acceptable"
