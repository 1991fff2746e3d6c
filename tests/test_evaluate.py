import pytest

from crosswalk.errors import InputError
from crosswalk.evaluate import GoldItem, load_gold, recall_at_k, score


def test_scoring_rule_exactly():
    gold = {
        "a": GoldItem("a", ("x", "y"), "partial"),   # predicted y: TP (partial counts)
        "b": GoldItem("b", ("z",), "equivalent"),    # predicted w: FP and FN
        "c": GoldItem("c", (), "none"),              # predicted v: FP only
        "d": GoldItem("d", (), "none"),              # predicted None: correct none
        "e": GoldItem("e", ("q",), "equivalent"),    # predicted None: FN
    }
    s = score({"a": "y", "b": "w", "c": "v", "d": None, "e": None}, gold)
    assert (s.tp, s.fp, s.fn) == (1, 2, 2)
    assert s.precision == pytest.approx(1 / 3) and s.recall == pytest.approx(1 / 3)
    assert s.none_accuracy == pytest.approx(0.5)
    assert {m["source"] for m in s.misses} == {"b", "c", "e"}


def test_recall_at_k_ignores_none_items():
    gold = {"a": GoldItem("a", ("x",), "equivalent"), "b": GoldItem("b", (), "none")}
    assert recall_at_k({"a": ["q", "x"]}, gold, 1) == 0.0
    assert recall_at_k({"a": ["q", "x"]}, gold, 2) == 1.0


def test_bad_gold_line_is_named(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text('{"source": "a", "targets": []}\n{oops\n')
    with pytest.raises(InputError, match="line 2"):
        load_gold(path)


def test_gold_labels_saved_with_a_byte_order_mark_are_read(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"source": "s1", "targets": ["t1"]}\n', encoding="utf-8-sig")
    assert load_gold(path)["s1"].targets == ("t1",)
