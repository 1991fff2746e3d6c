"""The SQLite store: one file for everything that costs time or money.

- `cache`: content-addressed results (extractions, embeddings, verdicts). The key is a
  versioned hash of the canonical JSON of (kind, model, prompt/config version, inputs),
  so a changed model or prompt simply misses the cache instead of returning stale data.
- `runs`: one row per run, with its settings and progress.
- `review_decisions`: an analyst's decisions (`crosswalk review`), by conversion (`scope`) and
  by the content of the two items, so the next conversion between the same templates starts
  with them; `review_baselines`: the matcher's crosswalk of a reviewed run, so a decision taken
  back restores what the matcher had said.

Schema changes are named, ordered migrations applied inside one write transaction, so
two `crosswalk` processes opening a fresh store at once cannot both migrate it. WAL
mode and a busy timeout let concurrent processes read and write safely.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .errors import StoreError

KEY_VERSION = "cw1"

MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_cache",
        """
        CREATE TABLE cache (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            value BLOB NOT NULL,
            created REAL NOT NULL
        );
        CREATE INDEX cache_kind ON cache(kind);
        """,
    ),
    (
        "002_runs",
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            started REAL NOT NULL,
            finished REAL,
            status TEXT NOT NULL,
            settings TEXT NOT NULL,
            output_dir TEXT,
            summary TEXT
        );
        """,
    ),
    (
        "003_run_progress",
        """
        ALTER TABLE runs ADD COLUMN progress TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0
        """,
    ),
    (
        "004_review_decisions",
        """
        CREATE TABLE review_decisions (
            scope TEXT NOT NULL,
            kind TEXT NOT NULL,
            source_id TEXT NOT NULL,
            target_id TEXT,
            note TEXT NOT NULL DEFAULT '',
            source_content TEXT NOT NULL,
            target_content TEXT,
            target_document TEXT NOT NULL,
            decided REAL NOT NULL,
            PRIMARY KEY (scope, kind, source_id)
        );
        CREATE INDEX review_by_content ON review_decisions(kind, source_content);
        CREATE TABLE review_baselines (
            scope TEXT NOT NULL,
            kind TEXT NOT NULL,
            crosswalk TEXT NOT NULL,
            PRIMARY KEY (scope, kind)
        )
        """,
    ),
]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cache_key(kind: str, **parts: Any) -> str:
    """Content-addressed key: `cw1:<kind>:<sha256 of canonical JSON of parts>`."""
    digest = hashlib.sha256(canonical_json(parts).encode("utf-8")).hexdigest()
    return f"{KEY_VERSION}:{kind}:{digest}"


class Store:
    """A thin, safe wrapper over one SQLite file. Open with `Store.open(path)`."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self._conn = conn
        self.path = path
        # one connection shared by the event loop and worker threads (extraction caches its
        # pages from a thread while verdicts are written on the loop): one user at a time
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path | str) -> "Store":
        """Open (creating and migrating if needed) the store at `path`; ':memory:' works for tests."""
        path = Path(path)
        deadline = time.monotonic() + 30.0
        while True:
            try:
                if str(path) != ":memory:":
                    path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA busy_timeout=30000")
                # switching a new file to WAL can answer "locked" at once while another process does
                # the same (SQLite does not wait on its busy timeout there): retry until ours succeeds
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                store = cls(conn, path)
                store._migrate()
                return store
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise StoreError(f"{path}: cannot open store: {exc}") from None
                conn.close()
                time.sleep(0.05)
            except sqlite3.Error as exc:
                raise StoreError(f"{path}: cannot open store: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- migrations -------------------------------------------------------------
    def _migrate(self) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")  # one migrator at a time across processes
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied REAL NOT NULL)")
            done = {row[0] for row in conn.execute("SELECT name FROM migrations")}
            for name, sql in MIGRATIONS:
                if name in done:
                    continue
                for statement in filter(str.strip, sql.split(";")):
                    conn.execute(statement)
                conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def applied_migrations(self) -> list[str]:
        return [row[0] for row in self._rows("SELECT name FROM migrations ORDER BY name")]

    # -- cache ------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        rows = self._rows("SELECT value FROM cache WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        keys = list(keys)
        found: dict[str, bytes] = {}
        for i in range(0, len(keys), 500):  # stay under SQLite's variable limit
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._rows(f"SELECT key, value FROM cache WHERE key IN ({marks})", chunk)
            found.update((key, bytes(value)) for key, value in rows)
        return found

    def put_many(self, kind: str, items: Iterable[tuple[str, bytes]]) -> None:
        """Insert results in one transaction; an existing key keeps its first value (paid once)."""
        now = time.time()
        rows = [(key, kind, sqlite3.Binary(value), now) for key, value in items]
        with self._transaction():
            self._conn.executemany("INSERT OR IGNORE INTO cache VALUES (?, ?, ?, ?)", rows)

    def put(self, kind: str, key: str, value: bytes) -> None:
        self.put_many(kind, [(key, value)])

    def get_json(self, key: str) -> Any | None:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def put_json(self, kind: str, key: str, value: Any) -> None:
        self.put(kind, key, canonical_json(value).encode("utf-8"))

    def count(self, kind: str | None = None) -> int:
        if kind is None:
            return self._rows("SELECT COUNT(*) FROM cache")[0][0]
        return self._rows("SELECT COUNT(*) FROM cache WHERE kind = ?", (kind,))[0][0]

    # -- runs -------------------------------------------------------------------
    def start_run(self, run_id: str, settings: dict, output_dir: str) -> None:
        """Record a run starting; the same run started again (a resume) counts one more attempt."""
        with self._transaction():
            self._conn.execute(
                "INSERT INTO runs (run_id, started, status, settings, output_dir, attempts) VALUES (?, ?, 'running', ?, ?, 1) "
                "ON CONFLICT(run_id) DO UPDATE SET status = 'running', finished = NULL, output_dir = excluded.output_dir, "
                "attempts = attempts + 1, progress = '{}'",
                (run_id, time.time(), canonical_json(settings), output_dir),
            )

    def update_progress(self, run_id: str, stage: str, info: dict) -> None:
        """Record that a stage of a run finished (read by `crosswalk status`)."""
        with self._transaction():
            row = self._conn.execute("SELECT progress FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            progress = json.loads(row[0]) if row else {}
            progress[stage] = info
            self._conn.execute("UPDATE runs SET progress = ? WHERE run_id = ?", (canonical_json(progress), run_id))

    def find_runs(self, prefix: str) -> list[dict]:
        return self._records("SELECT * FROM runs WHERE run_id LIKE ? OR output_dir = ? ORDER BY started DESC",
                             (prefix + "%", prefix))

    def finish_run(self, run_id: str, status: str, summary: dict) -> None:
        with self._transaction():
            self._conn.execute(
                "UPDATE runs SET finished = ?, status = ?, summary = ? WHERE run_id = ?",
                (time.time(), status, canonical_json(summary), run_id),
            )

    def get_run(self, run_id: str) -> dict | None:
        runs = self._records("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        return runs[0] if runs else None

    # -- review decisions ---------------------------------------------------------
    def save_decision(self, row: dict) -> None:
        """Record (or replace) one decision; committed before this returns (WAL: a crash or a second
        tab loses nothing)."""
        columns = ("scope", "kind", "source_id", "target_id", "note", "source_content", "target_content",
                   "target_document", "decided")
        with self._transaction():
            self._conn.execute(f"INSERT OR REPLACE INTO review_decisions ({', '.join(columns)}) "
                               f"VALUES ({', '.join('?' * len(columns))})", tuple(row[c] for c in columns))

    def delete_decision(self, scope: str, kind: str, source_id: str) -> None:
        with self._transaction():
            self._conn.execute("DELETE FROM review_decisions WHERE scope = ? AND kind = ? AND source_id = ?",
                               (scope, kind, source_id))

    def decisions_in(self, scope: str) -> list[dict]:
        return self._records("SELECT * FROM review_decisions WHERE scope = ? ORDER BY decided", (scope,))

    def decisions_by_content(self, kind: str, contents: Iterable[str]) -> list[dict]:
        """Decisions (of any conversion) on source items with these contents, newest last."""
        contents = list(contents)
        found: list[dict] = []
        for i in range(0, len(contents), 500):
            chunk = contents[i:i + 500]
            found += self._records(f"SELECT * FROM review_decisions WHERE kind = ? AND source_content IN "
                                   f"({','.join('?' * len(chunk))})", [kind, *chunk])
        return sorted(found, key=lambda r: r["decided"])

    def save_baseline(self, scope: str, kind: str, crosswalk: dict) -> None:
        """Keep the first crosswalk seen for a reviewed conversion (the matcher's); later calls keep it."""
        with self._transaction():
            self._conn.execute("INSERT OR IGNORE INTO review_baselines VALUES (?, ?, ?)",
                               (scope, kind, canonical_json(crosswalk)))

    def baseline(self, scope: str, kind: str) -> dict | None:
        rows = self._rows("SELECT crosswalk FROM review_baselines WHERE scope = ? AND kind = ?", (scope, kind))
        return json.loads(rows[0][0]) if rows else None

    # -- helpers ----------------------------------------------------------------
    def _rows(self, sql: str, params: Iterable = ()) -> list[tuple]:
        """All rows of one query, read under the lock (every read goes through here)."""
        with self._lock, damaged_store_errors(self.path):
            return self._conn.execute(sql, tuple(params)).fetchall()

    def _records(self, sql: str, params: Iterable = ()) -> list[dict]:
        """Rows of one query as {column: value}."""
        with self._lock, damaged_store_errors(self.path):
            cur = self._conn.execute(sql, tuple(params))
            names = [c[0] for c in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def _transaction(self) -> "_Tx":
        return _Tx(self._conn, self._lock, self.path)


@contextmanager
def damaged_store_errors(path: Path) -> Iterator[None]:
    """A corrupted page, a full disk or a file that is not SQLite: one StoreError naming the store."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise store_unusable(path, exc) from None


def store_unusable(path: Path, exc: Exception) -> StoreError:
    return StoreError(f"{path}: the store cannot be used ({exc}); move it aside (crosswalk starts a new one) "
                      "or pass --store")


class _Tx:
    """`BEGIN IMMEDIATE` … `COMMIT` holding the store's lock, rolled back on any exception."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock, path: Path):
        self._conn = conn
        self._lock = lock
        self._path = path

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            with damaged_store_errors(self._path):
                self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, exc_type: object, exc: object, *rest: object) -> None:
        try:
            with damaged_store_errors(self._path):
                self._conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()
        if isinstance(exc, sqlite3.DatabaseError):  # a failed write inside the transaction
            raise store_unusable(self._path, exc) from None


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def bytes_to_vector(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.float32)
