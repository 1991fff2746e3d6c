"""The Python API: one façade, `Crosswalker`, for notebooks and other programs.

    from crosswalk import ConversionInputs, Crosswalker

    with Crosswalker(store_path="store.sqlite") as cw:
        result = cw.convert(ConversionInputs(source_bpd="old_bpd.pdf", target_bpd="new_bpd.pdf"))
        rows = result.records("bpd")            # list of dicts: pandas.DataFrame(rows)
        cw.convert(inputs, out="crosswalk-out")  # also writes the outputs, as `crosswalk run -o` does

Sync methods for scripts and notebooks, `a`-prefixed coroutines underneath for async callers;
the same settings, store and exception tree as the CLI (`crosswalk.errors`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .candidates import plan_counts
from .decisions import load_decisions
from .extract import load_document
from .models import Document
from .pipeline import ConversionResult, run_conversion
from .runner import convert, load_conversion, open_conversion
from .settings import Settings, load_settings
from .store import Store


@dataclass(frozen=True)
class ConversionInputs:
    """The files of one conversion: a BPD pair, an AA pair, or both; optionally a reviewer's decisions."""

    source_bpd: Path | str | None = None
    target_bpd: Path | str | None = None
    source_aa: Path | str | None = None
    target_aa: Path | str | None = None
    decisions: Path | str | None = None
    password: str | None = None  # the user password of encrypted PDFs

    def paths(self) -> dict[str, Path | None]:
        return {f.name: Path(getattr(self, f.name)) if getattr(self, f.name) else None
                for f in fields(self) if f.name != "password"}


class Crosswalker:
    """Settings and a store for a series of conversions. Use as a context manager (closes the store)."""

    def __init__(self, settings: Settings | None = None, **overrides: Any):
        self.settings = settings if settings is not None else load_settings(overrides)
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.store_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> "Crosswalker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conversions ------------------------------------------------------------------------------
    def convert(self, inputs: ConversionInputs, out: Path | str | None = None, force: bool = False) -> ConversionResult:
        """Run a conversion; with `out`, also write its outputs there (the rules of README "Safety")."""
        return asyncio.run(self.aconvert(inputs, out, force))

    async def aconvert(self, inputs: ConversionInputs, out: Path | str | None = None,
                       force: bool = False) -> ConversionResult:
        client = self._client()
        try:
            if out is not None:
                _, result = await convert(inputs.paths(), self.settings, Path(out), self.store, client,
                                          password=inputs.password, force=force)
                return result
            paths = inputs.paths()
            decisions = load_decisions(paths["decisions"]) if paths.get("decisions") else None
            conversion = open_conversion(paths, inputs.password, self.store)
            return await run_conversion(conversion, self.settings, self.store, client, decisions=decisions)
        finally:
            if client is not None:
                await client.aclose()

    def plan(self, inputs: ConversionInputs) -> dict[str, dict[str, int]]:
        """Per crosswalk: pairs in, pairs kept, verifier calls, memory and cold time, before any work."""
        conversion = load_conversion(inputs.paths(), inputs.password, self.store)
        return {kind: plan_counts(len(s.items), len(t.items), self.settings.candidates_k)
                for kind, (s, t) in conversion.pairs().items()}

    def inspect(self, path: Path | str, password: str | None = None) -> Document:
        """The document crosswalk imports from `path` (cached in the store for PDFs)."""
        return load_document(path, password, self.store)

    # -- helpers --------------------------------------------------------------------------------------
    def _client(self):
        if self.settings.verifier == "llm" or self.settings.embedder == "openai":
            from .llm.provider import make_client

            return make_client(self.settings)
        return None
