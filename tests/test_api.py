"""The Python API as a notebook uses it: the façade, the sync calls, records, outputs, errors."""

import json

import pytest

import crosswalk
from crosswalk import ConversionInputs, Crosswalker, InputError, OutputError

from .conftest import EXAMPLES

BPD = ConversionInputs(source_bpd=EXAMPLES / "source_bpd.json", target_bpd=EXAMPLES / "target_bpd.json")


def test_public_names_are_exported():
    assert {"Crosswalker", "ConversionInputs", "CrosswalkError", "Settings"} <= set(crosswalk.__all__)
    assert all(hasattr(crosswalk, name) for name in crosswalk.__all__)


def test_convert_in_memory_and_to_a_folder(tmp_path, session_store_path):
    with Crosswalker(store_path=session_store_path) as cw:
        result = cw.convert(BPD)
        rows = result.records("bpd")
        assert len(rows) == 46 and {"source_id", "target_id", "status", "confidence"} <= set(rows[0])
        assert not (tmp_path / "out").exists()  # nothing written without `out`
        cw.convert(BPD, out=tmp_path / "out")
        written = json.loads((tmp_path / "out" / "bpd_crosswalk.json").read_text())
        assert [m["target_id"] for m in written["mappings"]] == [r["target_id"] for r in rows]
        plan = cw.plan(BPD)
        assert plan["bpd"]["source_items"] == 46 and plan["bpd"]["memory_mb"] >= 1
        assert cw.inspect(EXAMPLES / "target_aa.json").role == "aa"


def test_the_api_raises_the_same_errors_as_the_cli(tmp_path, session_store_path):
    with Crosswalker(store_path=session_store_path) as cw:
        with pytest.raises(InputError, match="needs both"):
            cw.convert(ConversionInputs(source_bpd=EXAMPLES / "source_bpd.json"))
        (tmp_path / "busy").mkdir()
        (tmp_path / "busy" / "notes.txt").write_text("mine")
        with pytest.raises(OutputError, match="notes.txt"):
            cw.convert(BPD, out=tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
