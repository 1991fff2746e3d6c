"""The CLI end to end, as a user runs it: a real process, real files, a real store."""

import json
import subprocess
import sys

import pytest

from crosswalk.evaluate import load_gold, score

from .conftest import EXAMPLES


pytestmark = pytest.mark.slow  # real processes and servers: the full tier (`make test`)


def cw(*args, store=None, check=False):
    cmd = [sys.executable, "-m", "crosswalk", *map(str, args)]
    if store is not None:
        cmd += ["--store", str(store)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return proc


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory, session_store_path):
    """The demo from the JSON copies: their ids are the ones the hand-written labels use."""
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = cw("demo", "--from", "json", "-o", out, store=session_store_path, check=True)
    assert "crosswalk summary" in proc.stdout
    return out


def test_demo_runs_on_the_bundled_pdfs(tmp_path, session_store_path):
    """`make demo`: the PDFs, with a scanned page (OCR when Tesseract is here) and a filled PDF form."""
    from crosswalk.extract.ocr import ocr_unavailable

    out = tmp_path / "out"
    proc = cw("demo", "-o", out, store=session_store_path, check=True)
    assert "crosswalk summary" in proc.stdout
    run = json.loads((out / "run.json").read_text())
    assert run["inputs"]["source_aa"]["path"].endswith("source_aa_form.pdf")
    assert run["inputs"]["source_aa"]["items"] == 30 and run["inputs"]["target_aa"]["items"] == 30
    source_bpd = json.loads((out / "documents" / "source_bpd.json").read_text())
    if ocr_unavailable():
        assert "page 2: no text layer" in proc.stdout  # said, and the other pages still read
    else:
        assert source_bpd["page_paths"] == ["text", "ocr", "text", "text"]
        assert len(source_bpd["provisions"]) == 46
    # the form's answers reach the proposed target AA
    form = json.loads((out / "documents" / "source_aa.json").read_text())
    employer = next(e for e in form["elections"] if e["question_number"] == "1.01")
    assert employer["selected_value"] == "Acme Widget Company"


def test_demo_writes_every_output(demo_out):
    names = {p.name for p in demo_out.iterdir()}
    assert {"bpd_crosswalk.json", "bpd_crosswalk.csv", "aa_crosswalk.json", "aa_crosswalk.csv",
            "run.json", "metrics.json"} <= names
    run = json.loads((demo_out / "run.json").read_text())
    assert run["settings"]["embedder"] == "minilm-onnx"
    assert run["inputs"]["source_aa"]["items"] == 30


def test_one_mapping_per_source_with_stable_fields(demo_out):
    for kind, source in (("bpd", "source_bpd.json"), ("aa", "source_aa_filled.json")):
        data = json.loads((demo_out / f"{kind}_crosswalk.json").read_text())
        src = json.loads((EXAMPLES / source).read_text())
        ids = [r["id"] for r in src["provisions" if kind == "bpd" else "elections"]]
        assert [m["source_id"] for m in data["mappings"]] == ids
        for m in data["mappings"]:
            assert {"source_id", "target_id", "alternates", "status", "confidence", "scores", "reasoning"} <= set(m)
            assert m["status"] in ("match", "partial", "no_match", "abstain", "error")
            assert 0.0 <= m["confidence"] <= 1.0
            assert (m["target_id"] is None) == (m["status"] in ("no_match", "abstain", "error"))


def test_demo_crosswalk_is_right_on_the_hand_labelled_examples(demo_out):
    for kind in ("bpd", "aa"):
        data = json.loads((demo_out / f"{kind}_crosswalk.json").read_text())
        preds = {m["source_id"]: m["target_id"] for m in data["mappings"]}
        s = score(preds, load_gold(EXAMPLES / f"expected_{kind}.jsonl"))
        assert s.f1 >= 0.85, (kind, s.as_dict())


def test_aa_matches_carry_option_mappings(demo_out):
    data = json.loads((demo_out / "aa_crosswalk.json").read_text())
    with_options = [m for m in data["mappings"] if m["target_id"] and m["option_mapping"]]
    assert len(with_options) >= 15
    changes = {o["change"] for m in with_options for o in m["option_mapping"]}
    assert {"same", "added"} <= changes


def test_eval_command_prints_scores(demo_out):
    proc = cw("eval", demo_out / "bpd_crosswalk.json", "--gold", EXAMPLES / "expected_bpd.jsonl")
    assert proc.returncode == 0 and "F1" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["--source-bpd", "missing.json", "--target-bpd", EXAMPLES / "target_bpd.json"], "missing.json: file not found"),
    (["--source-bpd", EXAMPLES, "--target-bpd", EXAMPLES / "target_bpd.json"], "examples: a directory, not a file"),
    (["--source-bpd", EXAMPLES / "source_bpd.json"], "needs both"),
    (["--source-bpd", EXAMPLES / "source_aa.json", "--target-bpd", EXAMPLES / "target_bpd.json"], "is an AA document"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, session_store_path, args, message):
    out = tmp_path / "out"
    proc = cw("run", *args, "-o", out, store=session_store_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["run", "--bogus"], "No such option: --bogus"),
    (["run", "-o", "x", "--candidates-k", "abc"], "Invalid value for '--candidates-k'"),
    (["no-such-command"], "No such command"),
])
def test_a_usage_error_is_a_message_and_exit_2_not_a_traceback(args, message):
    proc = cw(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_document_that_fails_mid_run_is_one_line_and_the_password_reaches_it(tmp_path, session_store_path):
    """Documents are read as the run goes: the encrypted target AA fails (naming the file) after
    the BPD pair has started; with --password the same run finishes."""
    pdfs = EXAMPLES / "pdf"
    docs = ["--source-bpd", pdfs / "source_bpd.pdf", "--target-bpd", pdfs / "target_bpd.pdf",
            "--source-aa", pdfs / "source_aa_form.pdf", "--target-aa", pdfs / "target_aa_password.pdf"]
    out = tmp_path / "out"
    proc = cw("run", *docs, "-o", out, "-q", store=session_store_path)
    assert proc.returncode == 2 and "target_aa_password.pdf" in proc.stderr and "password is needed" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
    proc = cw("run", *docs, "--password", "user-secret", "-o", out, "-q", store=session_store_path)
    assert proc.returncode == 0, proc.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["inputs"]["target_aa"]["items"] == 30 and run["inputs"]["target_aa"]["sha256"]


def test_inspect_and_version(session_store_path):
    proc = cw("inspect", EXAMPLES / "target_aa.json")
    assert proc.returncode == 0 and "elections=30" in proc.stdout
    assert cw("--version").stdout.startswith("crosswalk ")


def test_plan_counts_pairs(session_store_path):
    proc = cw("plan", "--source-bpd", EXAMPLES / "source_bpd.json", "--target-bpd", EXAMPLES / "target_bpd.json")
    n_source = len(json.loads((EXAMPLES / "source_bpd.json").read_text())["provisions"])
    n_target = len(json.loads((EXAMPLES / "target_bpd.json").read_text())["provisions"])
    assert proc.returncode == 0 and f"{n_source * n_target:,}" in proc.stdout and f"{n_source * 20:,}" in proc.stdout


def test_corpus_run_maps_every_source_record(corpus, tmp_path, session_store_path):
    out = tmp_path / "corpus"
    cw("run", "--source-bpd", corpus / "source_bpd.json", "--target-bpd", corpus / "target_bpd.json",
       "--source-aa", corpus / "source_aa.json", "--target-aa", corpus / "target_aa.json", "-o", out, "-q",
       store=session_store_path, check=True)
    assert len(json.loads((out / "bpd_crosswalk.json").read_text())["mappings"]) == 565
    assert len(json.loads((out / "aa_crosswalk.json").read_text())["mappings"]) == 182


def test_progress_lines_when_piped_and_silence_with_quiet(tmp_path, session_store_path):
    args = ["run", "--source-bpd", EXAMPLES / "source_bpd.json", "--target-bpd", EXAMPLES / "target_bpd.json"]
    loud = cw(*args, "-o", tmp_path / "a", store=session_store_path)
    assert loud.returncode == 0
    lines = loud.stderr.splitlines()
    assert any(line.startswith("bpd:verify: 46 items in ") for line in lines)
    assert all(": " in line and " items in " in line for line in lines)  # plain lines, no live table when piped
    quiet = cw(*args, "-o", tmp_path / "b", "-q", store=session_store_path)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_a_hosted_provider_without_a_key_is_a_clear_error(tmp_path, monkeypatch):
    """No key for api.openai.com: exit 2 at once, naming the variable, no traceback, nothing written."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "crosswalk", "run", "--verifier", "llm",
                           "--source-bpd", EXAMPLES / "source_bpd.json", "--target-bpd", EXAMPLES / "target_bpd.json",
                           "-o", out, "--store", tmp_path / "s.sqlite"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "no API key: set $OPENAI_API_KEY" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_bench_command_runs_the_checkout_benchmarks(tmp_path):
    proc = cw("bench", "nosuch")
    assert proc.returncode != 0 and "no benchmark 'nosuch'" in proc.stderr and "Traceback" not in proc.stderr
    assert "poc" in cw("bench", "pipeline", "--profile", "tight").stderr
    proc = cw("bench", "quality", "--shared", tmp_path / "absent")  # the script itself runs, and skips
    assert proc.returncode == 0 and "skipped: no shared corpus" in proc.stdout


def test_bench_takes_other_labels_and_passes_a_failing_script_s_exit_code_on(tmp_path):
    # held-out or a user's own labels go to the llm benchmark's oracle; without the shared corpus it
    # runs on the bundled examples, whose ids these labels must name
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": "x"\n', encoding="utf-8")
    proc = cw("bench", "llm", "--shared", tmp_path / "absent", "--oracle", bad)
    assert proc.returncode == 2, proc.stderr
    assert "bad.jsonl: line 1" in proc.stderr and "Traceback" not in proc.stderr
    other = tmp_path / "other.jsonl"
    other.write_text('{"source": "nobody-0001", "targets": []}\n', encoding="utf-8")
    proc = cw("bench", "llm", "--shared", tmp_path / "absent", "--gold", other)
    assert proc.returncode == 2 and "no id is a source item" in proc.stderr
    proc = cw("bench", "llm", "--oracle", tmp_path / "missing.jsonl")
    assert proc.returncode == 2 and "missing.jsonl: no such labels file" in proc.stderr
    proc = cw("bench", "pipeline", "--gold", other)
    assert proc.returncode != 0 and "--gold is for the quality, review and llm benchmarks" in proc.stderr
