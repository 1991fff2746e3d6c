import multiprocessing as mp

from crosswalk.store import MIGRATIONS, Store, cache_key, canonical_json


def test_cache_key_is_canonical_and_versioned():
    a = cache_key("verdict", model="m", inputs={"x": 1, "y": [1, 2]})
    b = cache_key("verdict", inputs={"y": [1, 2], "x": 1}, model="m")
    c = cache_key("verdict", model="m2", inputs={"x": 1, "y": [1, 2]})
    assert a == b != c
    assert a.startswith("cw1:verdict:")
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_migrations_apply_once_in_order(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as s:
        assert s.applied_migrations() == [name for name, _ in MIGRATIONS]
    with Store.open(path) as s:  # reopening migrates nothing again
        assert s.applied_migrations() == [name for name, _ in MIGRATIONS]


def test_first_value_is_kept(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
        s.put("verdict", "k", b"first")
        s.put("verdict", "k", b"second")
        assert s.get("k") == b"first"
        assert s.count("verdict") == 1
        assert s.get_many(["k", "missing"]) == {"k": b"first"}


def _writer(path: str, worker: int, n: int) -> None:
    with Store.open(path) as s:
        for i in range(n):
            s.put("test", f"key-{worker}-{i}", str(i).encode())
            s.put("test", f"shared-{i}", str(worker).encode())


def test_processes_share_one_store(tmp_path):
    """Four processes open a fresh store at once (the WAL switch races) and write into it."""
    path = str(tmp_path / "shared.sqlite")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 200)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Store.open(path) as s:
        assert s.count("test") == 200 * 4 + 200


def test_runs_are_recorded(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as s:
        s.start_run("r1", {"a": 1}, "/out")
        assert s.get_run("r1")["status"] == "running"
        s.finish_run("r1", "finished", {"bpd": {"match": 3}})
        assert s.get_run("r1")["status"] == "finished"


def test_threads_share_one_store(tmp_path):
    """Extraction writes from a worker thread while the event loop writes verdicts: one
    connection, so every use of it must be serialised (two BEGINs at once used to fail)."""
    import threading

    store = Store.open(tmp_path / "s.sqlite")
    errors = []

    def writer(t: int) -> None:
        try:
            for i in range(200):
                store.put_json("verdict", f"k{t}-{i}", {"i": i})
                assert store.get_json(f"k{t}-{i}") == {"i": i}
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert store.count("verdict") == 1200
    store.close()
