"""Shared fixtures. Tests never touch the network; the shared corpus is optional."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "crosswalk" / "examples"
SHARED = Path(os.environ.get("CROSSWALK_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "relius-to-ascensus"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def session_store_path(tmp_path_factory) -> Path:
    """One store for the session, so the local model embeds each text once across tests."""
    return tmp_path_factory.mktemp("store") / "store.sqlite"
