"""The output folder (`-o OUT`): a folder crosswalk owns, written without ever deleting what it did not write.

The rules (README, "Safety"):

* OUT is created when missing. When it exists it must be a folder; if it holds anything
  besides a previous crosswalk output (recognised by its `run.json` marker and crosswalk's
  own file names), the run stops before any work, exit 2, unless `--force`. With `--force`
  foreign files are left exactly as they are: crosswalk only ever replaces its own files.
* OUT may not be, or contain, an input file or the store (refused even with `--force`).
* One writer at a time: a lock file (`OUT/.crosswalk.lock`, flock) is taken when the run
  starts and held until it ends; a second run on the same OUT gets a one-line error.
* Outputs are built in a temporary folder inside OUT and each file is renamed into place
  (atomic per file); the temporary folder is removed on every exit path, and a leftover
  from a killed run is removed by the next run (its name says it is ours).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import OutputError
from ..interrupts import stop_requested

LOCK_NAME = ".crosswalk.lock"
TMP_PREFIX = ".crosswalk-tmp-"
MARKER = "run.json"
DOCUMENT_NAMES = frozenset(f"{role}.json" for role in ("source_bpd", "target_bpd", "source_aa", "target_aa"))
# Every name crosswalk writes at the top of OUT; `documents/` holds DOCUMENT_NAMES only.
OUTPUT_NAMES = frozenset({
    MARKER, "metrics.json", "bpd_crosswalk.json", "bpd_crosswalk.csv", "aa_crosswalk.json", "aa_crosswalk.csv",
    "confirmations.json", "confirmations.csv", "proposed_target_aa.json", "proposed_target_aa.csv",
    "variances.json", "variances.csv", "exception_log.csv", "exception_log.json", "workbook.xlsx", "report.html",
    "documents", LOCK_NAME, ".workbook.xlsx.tmp", ".report.html.tmp",
})


def is_crosswalk_output(out: Path) -> bool:
    """True when `out/run.json` is a crosswalk run record (our marker)."""
    try:
        record = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and "run_id" in record and "crosswalk_version" in record


def foreign_entries(out: Path) -> list[str]:
    """What `out` holds that crosswalk did not write (relative names, sorted)."""
    if not out.is_dir():
        return []
    ours = is_crosswalk_output(out)
    foreign = []
    for entry in sorted(out.iterdir(), key=lambda p: p.name):
        if entry.name == LOCK_NAME or entry.name.startswith(TMP_PREFIX):
            continue
        if not ours or entry.name not in OUTPUT_NAMES:
            foreign.append(entry.name)
        elif entry.name == "documents":
            if not entry.is_dir() or entry.is_symlink():
                foreign.append(entry.name)
            else:
                foreign += [f"documents/{p.name}" for p in sorted(entry.iterdir()) if p.name not in DOCUMENT_NAMES]
        elif entry.is_symlink() or not entry.is_file():
            foreign.append(entry.name)
    return foreign


def check_output_dir(out: Path | str, protected: Iterable[Path | str | None] = (), force: bool = False) -> Path:
    """Check OUT before any work; returns it. `protected`: the input files and the store."""
    if str(out).strip() == "":
        raise OutputError("-o/--out is empty: name a folder for the outputs")
    out = Path(out)
    resolved = out.resolve()
    for ancestor in [resolved, *resolved.parents]:
        if ancestor.exists() and not ancestor.is_dir():
            what = "exists and is not a folder" if ancestor == resolved else f"is under {ancestor}, which is not a folder"
            raise OutputError(f"{out}: {what}; -o needs a folder crosswalk can own")
    for path in protected:
        if not path:
            continue
        held = Path(path).resolve()
        if held == resolved or resolved in held.parents:
            raise OutputError(f"{out}: holds an input or the store ({path}); choose another output folder")
    foreign = foreign_entries(resolved)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise OutputError(f"{out}: holds files crosswalk did not write ({shown}); choose an empty or new folder, "
                          "or pass --force to write beside them (they are left untouched)")
    return out


class OutputFolder:
    """A claimed OUT: checked, created and locked for the whole run; `write()` swaps files in."""

    def __init__(self, out: Path | str, protected: Iterable[Path | str | None] = (), force: bool = False):
        self.path = check_output_dir(out, protected, force)
        self._lock_fd: int | None = None
        self._created = False  # OUT did not exist: a run that writes nothing leaves nothing behind

    def __enter__(self) -> "OutputFolder":
        self.claim()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def claim(self) -> None:
        import fcntl

        try:
            self._created = not self.path.exists()
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot create the output folder: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(f"{self.path}: another crosswalk run is writing this folder; wait for it or "
                              "choose another") from None
        self._lock_fd = fd
        for stale in self.path.glob(TMP_PREFIX + "*"):  # a killed run's leftovers (the name says they are ours)
            shutil.rmtree(stale, ignore_errors=True)

    def release(self) -> None:
        if self._lock_fd is None:
            return
        if self._created and [p.name for p in self.path.iterdir()] == [LOCK_NAME]:
            (self.path / LOCK_NAME).unlink()  # still under our lock: nobody else can be using it
            self.path.rmdir()
        os.close(self._lock_fd)  # closing releases the flock; a lock file in a kept OUT stays (removing it races)
        self._lock_fd = None

    @contextmanager
    def write(self) -> Iterator[Path]:
        """A temporary folder inside OUT; on success each file in it replaces its namesake in OUT.
        Files crosswalk wrote last time and not this time are removed; nothing else is touched."""
        try:
            tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=self.path))
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write here: {exc.strerror or exc}") from None
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; OUT's files are ordinary ones
        try:
            yield tmp
            self._swap_in(tmp)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise OutputError(f"{self.path}: disk full while writing the outputs; the store keeps the work, "
                                  "free space and run the same command again") from None
            raise OutputError(f"{self.path}: cannot write the outputs: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _swap_in(self, tmp: Path) -> None:
        stop_requested.check()  # interrupted while the files were written: OUT keeps the previous run
        previous = is_crosswalk_output(self.path)
        written = {p.relative_to(tmp) for p in tmp.rglob("*") if p.is_file()}
        # run.json last: until it is replaced, OUT still describes the previous run's files
        for rel in sorted(written, key=lambda r: r.name == MARKER):
            (self.path / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, self.path / rel)
        if previous:
            self._remove_stale(written)

    def _remove_stale(self, written: set[Path]) -> None:
        for name in OUTPUT_NAMES - {LOCK_NAME, "documents"}:
            stale = self.path / name
            if Path(name) not in written and stale.is_file() and not stale.is_symlink():
                stale.unlink()
        docs = self.path / "documents"
        if docs.is_dir() and not docs.is_symlink():
            for name in DOCUMENT_NAMES:
                stale = docs / name
                if Path("documents", name) not in written and stale.is_file() and not stale.is_symlink():
                    stale.unlink()
