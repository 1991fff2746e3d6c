"""Paths the main tests do not take: the API embedder, the LLM verifier per pair, `extract --vision`
from the CLI, replies that are not JSON, a store another process holds locked. Each against the
real thing: the simulated API over HTTP on loopback, a real CLI process, a real SQLite lock."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time

import pytest
from aiohttp import web

from crosswalk import ConversionInputs, Crosswalker
from crosswalk.testing import FakeAPI, FakeAPIThread

from .conftest import EXAMPLES, chat_server

PDFS = EXAMPLES / "pdf"
pytestmark = pytest.mark.slow  # servers on loopback and CLI processes
BPD = ConversionInputs(source_bpd=EXAMPLES / "source_bpd.json", target_bpd=EXAMPLES / "target_bpd.json")


@pytest.fixture
def api_key(monkeypatch):
    monkeypatch.setenv("CW_PATHS_KEY", "simulated")
    return "CW_PATHS_KEY"


def test_the_api_embedder_embeds_once_then_reads_the_store(tmp_path, api_key):
    with FakeAPIThread(FakeAPI("fast")) as api:
        settings = {"store_path": tmp_path / "s.sqlite", "embedder": "openai", "llm_base_url": api.url,
                    "api_key_env": api_key}
        with Crosswalker(**settings) as cw:
            first = cw.convert(BPD)
        calls = api.counters.by_model.get("text-embedding-3-small", 0)
        with Crosswalker(**settings) as cw:
            again = cw.convert(BPD)
        assert calls > 0 and api.counters.by_model.get("text-embedding-3-small", 0) == calls
    assert first.records("bpd") == again.records("bpd")
    assert first.results["bpd"].crosswalk.run["embedder"] == "openai:text-embedding-3-small"


def test_the_llm_verifier_per_pair_asks_one_call_per_candidate_pair(tmp_path, api_key):
    with FakeAPIThread(FakeAPI("fast")) as api:
        with Crosswalker(store_path=tmp_path / "s.sqlite", verifier="llm", verify_mode="per_pair",
                         llm_base_url=api.url, api_key_env=api_key) as cw:
            result = cw.convert(BPD)
        verified = list(api.counters.verified_sources)
    rows = result.records("bpd")
    assert len(rows) == len(result.conversion.source_bpd.provisions)
    # per pair: a source item is asked about once per candidate shown (up to 5), not once in all
    assert len(verified) > len(set(verified)) >= 1
    assert all(r["status"] in ("match", "partial", "abstain", "no_match") for r in rows)


def test_extract_vision_from_the_cli_reads_the_scanned_page_through_the_model(tmp_path, api_key):
    from crosswalk.extract.vision import render_pages

    page = render_pages(PDFS / "source_bpd_scanned.pdf", None, [2])[0]
    records = [{"section_number": "2.1", "section_title": "Read by the model", "provision_text": "Scanned text."}]
    fixtures = {base64.b64encode(page.image).decode(): {"records": records}}
    out = tmp_path / "doc.json"
    with FakeAPIThread(FakeAPI("fast", vision_fixtures=fixtures)) as api:
        proc = subprocess.run([sys.executable, "-m", "crosswalk", "extract", PDFS / "source_bpd_scanned.pdf", "--vision",
                               "-o", out, "--store", tmp_path / "s.sqlite"], capture_output=True, text=True, timeout=300,
                              env={**__import__("os").environ, "CROSSWALK_LLM_BASE_URL": api.url,
                                   "CROSSWALK_API_KEY_ENV": api_key})
        asked = api.counters.requests
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["page_paths"][1].startswith("vision") and asked == 1
    assert "Read by the model" in [p["title"] for p in doc["provisions"]]


def test_a_reply_that_is_not_json_is_retried_then_reported(tmp_path, api_key):
    """A proxy answering 200 with an HTML page: retried, then a ProviderError naming the problem."""
    from crosswalk.errors import ProviderError
    from crosswalk.llm.client import LLMClient
    from crosswalk.llm.limiter import ModelLimiter

    hits = []

    async def html(request):
        hits.append(1)
        return web.Response(text="<html>gateway</html>", content_type="text/html")

    async def go():
        async with chat_server(html) as url, \
                LLMClient(url, api_key_env=api_key, max_retries=2, backoff_base=0.01, backoff_cap=0.02,
                          limiter_for=lambda m: ModelLimiter(100, 100_000, 2)) as client:
            await client.chat("gpt-4.1", [{"role": "user", "content": "hello"}], max_tokens=20)
    with pytest.raises(ProviderError, match="not JSON"):
        asyncio.run(go())
    assert len(hits) == 3  # the first try and two retries


def test_a_store_locked_by_another_process_waits_instead_of_failing(tmp_path):
    """Another process holds a write transaction for a second: the store waits for it (busy timeout)
    instead of failing with "database is locked"."""
    from crosswalk.store import Store

    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        store.put_json("embedding", "k0", [0.0])
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(1.0); c.execute('COMMIT')\n")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    t0 = time.monotonic()
    with Store.open(path) as store:
        store.put_json("embedding", "k1", [1.0])
        assert store.get_json("k1") == [1.0]
    waited = time.monotonic() - t0
    assert holder.wait(10) == 0 and 0.5 <= waited < 10


def test_the_live_progress_table_and_the_fleet_progress_lines(monkeypatch, capsys):
    """On a terminal the stage table is live (rich); the fleet prints done, failed, rate and ETA."""
    from rich.console import Console

    from crosswalk.views import FleetProgress, ProgressView

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    now = time.time()
    with ProgressView(quiet=False) as view:
        assert view._live is not None
        view("bpd:embed", {"state": "running", "start": now, "items": 10})
        view("bpd:embed", {"state": "done", "start": now, "duration_s": 1.5, "items": 10, "api_calls": 3, "cache_hits": 2})
        view("aa:verify", {"state": "stopped", "start": now, "duration_s": 0.2, "items": 4})
    console = Console(record=True, width=120)
    console.print(view._table())
    text = console.export_text()
    assert "bpd:embed" in text and "done" in text and "aa:verify" in text and "stopped" in text
    fleet = FleetProgress(quiet=False)
    fleet({"event": "start", "total": 3, "started": 0})
    fleet({"event": "plan", "plan": "a", "status": "finished", "error": ""})
    fleet({"event": "plan", "plan": "b", "status": "failed", "error": "b.pdf: not a PDF"})
    err = capsys.readouterr().err
    assert "1/3 done, 0 failed" in err and "2/3 done, 1 failed" not in err and "1/3 done, 1 failed" in err
    assert "plans/h" in err and "ETA" in err and "b.pdf: not a PDF" in err
