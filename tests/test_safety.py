"""What a user's files, spreadsheets and exit codes can count on (README, "Safety").

Every test here drives the real CLI in its own process against real files and a real store,
as an adversarial user would; each one failed before the fix it guards.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crosswalk.report.outdir import LOCK_NAME, OutputFolder, TMP_PREFIX

from .conftest import EXAMPLES, chat_server

pytestmark = pytest.mark.slow  # real processes and servers: the full tier (`make test`)


BPD = ["--source-bpd", EXAMPLES / "source_bpd.json", "--target-bpd", EXAMPLES / "target_bpd.json"]
HOSTILE = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1",
           "=cmd|' /C calc'!A0"]


def cw(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "crosswalk", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def one_line_error(proc, code: int, *fragments: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr


def no_temp_folders(*folders: Path) -> bool:
    return not any(p.name.startswith((TMP_PREFIX, ".out.", "..")) for f in folders if f.is_dir() for p in f.iterdir())


# -- the output folder --------------------------------------------------------------------------

def test_out_holding_foreign_files_is_refused_and_kept(tmp_path, session_store_path):
    out = tmp_path / "o_x"
    out.mkdir()
    (out / "notes.txt").write_text("hi")
    proc = cw("run", *BPD, "-o", out, "--store", session_store_path, "-q")
    one_line_error(proc, 2, "notes.txt", "--force")
    assert (out / "notes.txt").read_text() == "hi" and sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    # --force writes beside them and never touches them, on a rerun too
    for _ in range(2):
        proc = cw("run", *BPD, "-o", out, "--store", session_store_path, "-q", "--force")
        assert proc.returncode == 0, proc.stderr
    assert (out / "notes.txt").read_text() == "hi" and (out / "bpd_crosswalk.json").is_file()
    assert no_temp_folders(out, tmp_path)


def test_out_that_holds_an_input_or_the_store_is_refused(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("source_bpd.json", "target_bpd.json"):
        (inputs / name).write_bytes((EXAMPLES / name).read_bytes())
    docs = ["--source-bpd", inputs / "source_bpd.json", "--target-bpd", inputs / "target_bpd.json"]
    for forced in ([], ["--force"]):
        proc = cw("run", *docs, "-o", inputs, "--store", tmp_path / "s.sqlite", "-q", *forced)
        one_line_error(proc, 2, "holds an input")
        proc = cw("run", *docs, "-o", tmp_path, "--store", tmp_path / "s.sqlite", "-q", *forced)
        one_line_error(proc, 2, "holds an input")
    assert sorted(p.name for p in inputs.iterdir()) == ["source_bpd.json", "target_bpd.json"]
    store_dir = tmp_path / "o_s"
    proc = cw("run", *BPD, "-o", store_dir, "--store", store_dir / "store.sqlite", "-q")
    one_line_error(proc, 2, "holds an input or the store")


def test_out_that_is_not_a_folder_is_refused_untouched(tmp_path, session_store_path):
    afile = tmp_path / "existing.txt"
    afile.write_text("keep me")
    for out in (afile, afile / "below", Path("/dev/null")):
        proc = cw("run", *BPD, "-o", out, "--store", session_store_path, "-q")
        one_line_error(proc, 2, "not a folder")
    assert afile.read_text() == "keep me" and not (tmp_path / ".existing.txt.old").exists()
    assert Path("/dev/null").is_char_device()
    one_line_error(cw("run", *BPD, "-o", "", "--store", session_store_path, "-q"), 2)  # typer reads "" as "."
    assert no_temp_folders(tmp_path)


def test_dot_and_dotdot_with_other_files_are_refused(tmp_path, session_store_path):
    work = tmp_path / "work" / "here"
    work.mkdir(parents=True)
    (work / "mine.txt").write_text("x")
    (tmp_path / "work" / "other.txt").write_text("y")
    for out in (".", ".."):
        proc = subprocess.run([sys.executable, "-m", "crosswalk", "run", *map(str, BPD), "-o", out, "--store",
                               str(session_store_path), "-q"], cwd=work, capture_output=True, text=True, timeout=300)
        one_line_error(proc, 2, "did not write")
    assert (work / "mine.txt").read_text() == "x" and no_temp_folders(work, work.parent)


def test_a_second_writer_gets_a_clear_error(tmp_path, session_store_path):
    out = tmp_path / "out"
    with OutputFolder(out):  # a run in progress holds the lock
        proc = cw("run", *BPD, "-o", out, "--store", session_store_path, "-q")
        one_line_error(proc, 2, "another crosswalk run is writing")
    assert cw("run", *BPD, "-o", out, "--store", session_store_path, "-q").returncode == 0
    # a rerun over its own output replaces it; the stale outputs of a wider run go
    wide = cw("run", *BPD, "--source-aa", EXAMPLES / "source_aa_filled.json", "--target-aa", EXAMPLES / "target_aa.json",
              "-o", out, "--store", session_store_path, "-q")
    assert wide.returncode == 0 and (out / "aa_crosswalk.json").is_file()
    assert cw("run", *BPD, "-o", out, "--store", session_store_path, "-q").returncode == 0
    assert not (out / "aa_crosswalk.json").exists() and (out / "bpd_crosswalk.json").is_file()


def test_lock_is_exclusive_across_processes(tmp_path):
    folder = OutputFolder(tmp_path / "out")
    folder.claim()
    try:
        fd = os.open(tmp_path / "out" / LOCK_NAME, os.O_RDWR)
        with pytest.raises(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
    finally:
        folder.release()


# -- document text is data ------------------------------------------------------------------------

def hostile_documents(root: Path) -> list:
    """The example BPD pair with formulas, control characters, PDFium hyphens and a lone surrogate in
    ids, titles and text (JSON escapes, so the files themselves are valid UTF-8)."""
    paths = []
    for name in ("source_bpd", "target_bpd"):
        doc = json.loads((EXAMPLES / f"{name}.json").read_text())
        for i, prov in enumerate(doc["provisions"][:len(HOSTILE)]):
            prov["title"] = HOSTILE[i]
            prov["text"] = HOSTILE[i] + " " + prov["text"]
        doc["provisions"][0]["id"] = "=HYPERLINK(\"x\")" + name
        doc["provisions"][1]["text"] += " an \"owner\u0002 Employee\" means a tax\ufffe deductible\u000b x\u0000y \ud800 z"
        path = root / f"{name}.json"
        path.write_text(json.dumps(doc, ensure_ascii=True))
        paths.append(path)
    for name in ("source_aa_filled", "target_aa"):
        doc = json.loads((EXAMPLES / f"{name}.json").read_text())
        for i, election in enumerate(doc["elections"][:len(HOSTILE)]):
            election["question_text"] = HOSTILE[i] + " " + election["question_text"]
            for option in election.get("options", []):
                option["text"] = "=1+" + option["text"]
        path = root / f"{name}.json"
        path.write_text(json.dumps(doc, ensure_ascii=True))
        paths.append(path)
    return ["--source-bpd", paths[0], "--target-bpd", paths[1], "--source-aa", paths[2], "--target-aa", paths[3]]


def test_hostile_text_reaches_no_writer_as_a_formula_and_crashes_none(tmp_path, session_store_path):
    from openpyxl import load_workbook

    out = tmp_path / "out"
    proc = cw("run", *hostile_documents(tmp_path), "-o", out, "--store", session_store_path, "-q")
    assert proc.returncode == 0, proc.stderr
    wb = load_workbook(out / "workbook.xlsx")
    formulas = [c.coordinate for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    cells = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(v.startswith("=HYPERLINK") for v in cells)  # kept as text, not dropped
    csvs = sorted(out.glob("*.csv"))
    assert len(csvs) >= 6  # crosswalks, confirmations, proposals, variances, exceptions
    for name in csvs:
        with open(name, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row
    crosswalk = json.loads((out / "bpd_crosswalk.json").read_text())
    assert any(m["source_id"].startswith("=HYPERLINK") for m in crosswalk["mappings"])  # JSON keeps it exact
    source = json.loads((out / "documents" / "source_bpd.json").read_text())
    text = source["provisions"][1]["text"]
    assert "owner-Employee" in text and "tax-deductible" in text and "\x00" not in text and "\ud800" not in text
    html = (out / "report.html").read_text()
    assert "owner-Employee" in html


def test_a_failing_report_writer_keeps_everything_else(tmp_path, session_store_path):
    out = tmp_path / "out"
    assert cw("run", *BPD, "-o", out, "--store", session_store_path, "-q").returncode == 0
    (out / "report.html").unlink()
    (out / ".report.html.tmp").mkdir()  # the HTML writer cannot write there: a real OSError
    proc = cw("report", out, "--store", session_store_path)
    one_line_error(proc, 5, "report.html could not be written")
    assert (out / "workbook.xlsx").is_file() and (out / "bpd_crosswalk.json").is_file()


def test_word_diff_is_bounded_and_marks_the_cut():
    from crosswalk.report.html import MAX_DIFF_TOKENS, word_diff

    a = " ".join(f"w{i % 7}" for i in range(20_000))
    b = " ".join(f"w{i % 5}" for i in range(20_000))
    left, right = word_diff(a, b)
    assert "".join(t for _, t in left).replace(left[-2][1], "") == a  # nothing lost
    assert "first" in left[-2][1] and MAX_DIFF_TOKENS < 20_000


# -- interrupts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_stops_promptly_with_its_exit_code(tmp_path, sig, code):
    from crosswalk.testing.fake_api import FakeAPIProcess

    out = tmp_path / "out"
    with FakeAPIProcess("poc", time_scale=1.0) as api:  # real-time 5 s calls: the run is busy when hit
        env = {**os.environ, "CROSSWALK_LLM_BASE_URL": api.url, "CROSSWALK_VERIFIER": "llm",
               "CROSSWALK_VERIFY_MODE": "per_source"}
        proc = subprocess.Popen([sys.executable, "-m", "crosswalk", "run", *map(str, BPD), "-o", str(out), "--store",
                                 str(tmp_path / "s.sqlite")], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while api.stats()["requests"] < 3 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        sent = time.time()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        took = time.time() - sent
    assert proc.returncode == code, err
    assert "interrupted" in err and "Traceback" not in err
    assert "bpd:verify:" not in err  # the cancelled stage is not reported as done
    assert took < 15, took  # not the 25 s (or 60 s) it took before
    assert not out.exists() and no_temp_folders(tmp_path)


# -- the store and passwords --------------------------------------------------------------------

def test_password_is_checked_on_a_cache_hit(tmp_path):
    pdf = EXAMPLES / "pdf" / "target_aa_password.pdf"
    store = tmp_path / "s.sqlite"
    ok = cw("extract", pdf, "-o", tmp_path / "a.json", "--password", "user-secret", "--store", store)
    assert ok.returncode == 0, ok.stderr
    one_line_error(cw("extract", pdf, "-o", tmp_path / "b.json", "--password", "wrong", "--store", store), 2,
                   "password is wrong")
    one_line_error(cw("extract", pdf, "-o", tmp_path / "c.json", "--store", store), 2, "password is needed")
    env = {**os.environ, "PDF_PW": "user-secret"}
    proc = cw("extract", pdf, "-o", tmp_path / "d.json", "--password-env", "PDF_PW", "--store", store, env=env)
    assert proc.returncode == 0 and "user-secret" not in proc.stdout + proc.stderr


def test_a_damaged_store_is_one_line_exit_3(tmp_path):
    store = tmp_path / "s.sqlite"
    assert cw("run", *BPD, "-o", tmp_path / "o1", "--store", store, "-q").returncode == 0
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(store.read_bytes())
    page = 4096
    for offset in range(page * 2, len(raw), page):  # every page after the first two: garbage
        raw[offset:offset + 64] = b"\xff" * 64
    store.write_bytes(bytes(raw))
    for extra in (store.with_name("s.sqlite-wal"), store.with_name("s.sqlite-shm")):
        extra.unlink(missing_ok=True)
    proc = cw("run", *BPD, "-o", tmp_path / "o2", "--store", store, "-q")
    one_line_error(proc, 3, str(store))
    notastore = tmp_path / "text.sqlite"
    notastore.write_text("hello " * 2000)
    one_line_error(cw("run", *BPD, "-o", tmp_path / "o3", "--store", notastore, "-q"), 3, "text.sqlite")


# -- the provider -------------------------------------------------------------------------------

def test_unreachable_provider_stops_early_with_exit_4(tmp_path, session_store_path):
    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CROSSWALK_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1", "CROSSWALK_VERIFIER": "llm",
           "CROSSWALK_VERIFY_MODE": "per_source"}
    started = time.time()
    proc = cw("run", *BPD, "-o", tmp_path / "out", "--store", session_store_path, "-q", env=env)
    one_line_error(proc, 4, "cannot reach the provider")
    assert time.time() - started < 45 and not (tmp_path / "out").exists()


def test_credentials_in_the_base_url_are_refused_without_echo(tmp_path, session_store_path):
    env = {**os.environ, "CROSSWALK_LLM_BASE_URL": "http://user:s3cret-pw@127.0.0.1:9/v1",
           "CROSSWALK_VERIFIER": "llm"}
    proc = cw("run", *BPD, "-o", tmp_path / "out", "--store", session_store_path, "-q", env=env)
    one_line_error(proc, 2, "carries credentials")
    assert "s3cret-pw" not in proc.stderr + proc.stdout


def test_items_in_error_exit_5_with_outputs_written(tmp_path, session_store_path):
    from crosswalk.testing.fake_api import FakeAPIProcess

    with FakeAPIProcess("faults", seed=3) as api:  # 10% server errors, and no retries allowed
        env = {**os.environ, "CROSSWALK_LLM_BASE_URL": api.url, "CROSSWALK_VERIFIER": "llm",
               "CROSSWALK_VERIFY_MODE": "per_source", "CROSSWALK_LLM_MAX_RETRIES": "0", "CROSSWALK_LLM_TIMEOUT_S": "3"}
        proc = cw("run", *BPD, "-o", tmp_path / "out", "--store", tmp_path / "s.sqlite", "-q", env=env)
    one_line_error(proc, 5, "ended in error")
    mappings = json.loads((tmp_path / "out" / "bpd_crosswalk.json").read_text())["mappings"]
    assert any(m["status"] == "error" for m in mappings) and len(mappings) == 46


@pytest.fixture
def llmock_server():
    """`llmock serve` (a third-party OpenAI-compatible chaos server, dev dependency) with faults on."""
    exe = Path(sys.executable).with_name("llmock")
    if not exe.exists():
        pytest.skip("llmock is not installed (pip install -e '.[dev]')")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--error-rate-429", "0.2", "--error-rate-503", "0.1", "--error-rate-500", "0.05",
                             "--rpm", "300", "--tpm", "60000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_llmock_resilience_verdict_passes(tmp_path, session_store_path, llmock_server):
    env = {**os.environ, "CROSSWALK_LLM_BASE_URL": llmock_server + "/v1", "CROSSWALK_VERIFIER": "llm",
           "CROSSWALK_VERIFY_MODE": "per_source", "OPENAI_API_KEY": "sk-llmock"}
    proc = cw("run", *BPD, "-o", tmp_path / "out", "--store", session_store_path, "-q", env=env)
    assert proc.returncode in (0, 5), proc.stderr  # llmock's replies are not verdicts; faults are what is judged
    report = subprocess.run([str(Path(sys.executable).with_name("llmock")), "report", "--url", llmock_server,
                             "--strict"], capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "fault(s) injected" in report.stdout and " 0 fault(s)" not in report.stdout


# -- malformed input: one line naming the file and record ---------------------------------------

def corpus_bpd(records) -> dict:
    return {"document": "x-bpd", "records": records}


def good_record(**extra) -> dict:
    return {"id": "p1", "provision_text": "The Plan Administrator shall keep records.", **extra}


@pytest.mark.parametrize("payload,fragment", [
    (corpus_bpd([good_record(pdf_page="abc")]), "p1"),
    (corpus_bpd([good_record(pdf_page=float("nan"))]), "p1"),
    (corpus_bpd([good_record(), "not a record"]), "record 1"),
    ({"document": "x-aa", "records": [{"id": "q1", "question_text": "Plan name?", "options": ["a"]}]}, "q1"),
    ({"document": "x-aa", "records": [{"id": "q1", "question_text": "Plan name?",
                                       "options": [{"label": "a", "text": "x", "is_selected": "maybe"}]}]}, "q1"),
])
def test_records_of_the_wrong_shape_are_input_errors(tmp_path, payload, fragment):
    from crosswalk.errors import InputError
    from crosswalk.extract import load_document

    path = tmp_path / "doc.json"
    path.write_text(json.dumps(payload, allow_nan=True))
    with pytest.raises(InputError) as info:
        load_document(path)
    assert "doc.json" in str(info.value) and fragment in str(info.value)


@pytest.mark.parametrize("raw", ["[" * 100_000 + "]" * 100_000,
                                 '{"records": [{"id": "p1", "provision_text": "x", "pdf_page": ' + "9" * 5000 + "}]}"])
def test_pathological_json_is_an_input_error(tmp_path, raw):
    path = tmp_path / "deep.json"
    path.write_text(raw)
    one_line_error(cw("inspect", path), 2, "deep.json")


def test_ids_are_normalised_and_blank_text_is_blank(tmp_path):
    from crosswalk.errors import InputError
    from crosswalk.extract import load_document

    path = tmp_path / "doc.json"
    path.write_text(json.dumps(corpus_bpd([good_record(), {**good_record(), "id": "p1 "}])))
    with pytest.raises(InputError, match="duplicate id"):
        load_document(path)
    path.write_text(json.dumps(corpus_bpd([good_record(), {"id": "p2", "provision_text": "\u200b\u200b \u2060"}])))
    with pytest.raises(InputError, match="no text"):
        load_document(path)
    path.write_text(json.dumps(corpus_bpd([{"id": "Cafe\u0301", "provision_text": "x"}])))
    assert load_document(path).provisions[0].id == "Caf\u00e9"


@pytest.mark.parametrize("content,fragment", [
    ("source_id,target_id\nks-bpd-001,hv\x00-bpd-001\n", "NUL"),
    ("source_id,target_id\nks-bpd-001," + "x" * 200_000 + "\n", "line"),
    ("source_id,target_id\nks-bpd-001\n", "no target_id cell"),
    ("source_id,target_id,target_id\nks-bpd-001,a,b\n", "more than once"),
])
def test_bad_decisions_files_are_input_errors(tmp_path, content, fragment):
    from crosswalk.decisions import load_decisions
    from crosswalk.errors import InputError

    path = tmp_path / "decisions.csv"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        load_decisions(path)
    assert "decisions.csv" in str(info.value) and fragment in str(info.value)


def test_embeddings_are_stored_part_by_part(tmp_path):
    """A run killed mid-embedding keeps what it embedded: the store is written after each part."""
    import asyncio

    import numpy as np

    from crosswalk.embed import CachedEmbedder
    from crosswalk.store import Store

    class DiesAfterTwoParts:
        model_id = "test-dies"
        store_every = 10

        def __init__(self):
            self.parts = 0

        async def embed(self, texts):
            self.parts += 1
            if self.parts == 3:
                raise KeyboardInterrupt
            return np.ones((len(texts), 4), np.float32)

    with Store.open(tmp_path / "s.sqlite") as store:
        cached = CachedEmbedder(DiesAfterTwoParts(), store)
        with pytest.raises(KeyboardInterrupt):
            asyncio.run(cached.embed([f"text {i}" for i in range(35)]))
        assert store.count("embedding") == 20


def test_plan_says_what_a_huge_input_needs_and_run_refuses_it(tmp_path):
    records = [{"id": f"p{i}", "provision_text": f"Provision {i} of the plan."} for i in range(40_000)]
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"document": "big-bpd", "records": records}))
    from crosswalk.candidates import check_fits_in_memory, physical_memory_bytes, plan_counts

    counts = plan_counts(40_000, 40_000, 20)
    assert counts["memory_mb"] > 70_000 and counts["cold_seconds"] > 1000
    proc = cw("plan", "--source-bpd", big, "--target-bpd", big)
    assert proc.returncode == 0 and "memory" in proc.stdout
    if physical_memory_bytes() < 60 * 2**30:  # this machine: 24 GiB
        assert "will not fit" in proc.stdout
        from crosswalk.errors import InputError

        with pytest.raises(InputError, match="GiB"):
            check_fits_in_memory(40_000, 40_000, big)


def test_a_hung_request_is_abandoned_after_a_multiple_of_recent_latency():
    """A server that accepts a request and never answers costs seconds, not llm_timeout_s (here 300 s)."""
    import asyncio

    from aiohttp import web

    from crosswalk.llm.client import HANG_FLOOR_S, LLMClient
    from crosswalk.llm.limiter import ModelLimiter

    seen = {"n": 0}
    release = None

    async def chat(request):
        seen["n"] += 1
        if seen["n"] == 4:
            await release.wait()  # hangs: headers never come (until the test ends)
        return web.json_response({"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
                                  "usage": {"prompt_tokens": 5, "completion_tokens": 1}})

    async def scenario():
        nonlocal release
        release = asyncio.Event()
        async with chat_server(chat) as url:
            client = LLMClient(url, timeout=300.0, backoff_base=0.01,
                               limiter_for=lambda m: ModelLimiter(10_000, 10_000_000, 4))
            try:
                for _ in range(6):
                    await client.chat("m", [{"role": "user", "content": "hi"}], max_tokens=5)
                return client.usage["verification"]
            finally:
                release.set()
                await client.aclose()

    usage = asyncio.run(asyncio.wait_for(scenario(), timeout=HANG_FLOOR_S * 4))
    assert usage.timeouts == 1 and usage.succeeded == 6


def test_disk_full_is_a_one_line_error(tmp_path, session_store_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        proc = cw("run", *BPD, "-o", mount / "out", "--store", session_store_path, "-q")
        one_line_error(proc, 2, "disk full")
        assert not any(p.name.startswith(TMP_PREFIX) for p in (mount / "out").iterdir()) \
            if (mount / "out").exists() else True
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
