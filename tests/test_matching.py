"""Candidates, features, the decision rule, training and option mapping, on small fixtures."""

import asyncio

import numpy as np
import pytest

import math
from collections import Counter

from crosswalk.candidates import TfidfSpace, char_terms, compatibility_matrix, heading_terms, plan_counts, stem_terms, top_k
from crosswalk.classify import PROVISION_TYPES, compatible
from crosswalk.fingerprint import content_words
from crosswalk.evaluate import GoldItem
from crosswalk.models import Election, ElectionOption
from crosswalk.verify.features import FEATURES, CandidateSet
from crosswalk.verify.local import DIRECTION, DecisionRule, LocalVerifier, decide, load_model, strong_evidence
from crosswalk.verify.options import map_options
from crosswalk.verify import train
from crosswalk.verify.train import fit


def test_top_k_orders_best_first():
    fused = np.array([[0.1, 0.9, 0.5, 0.7], [0.8, 0.2, 0.3, 0.1]])
    assert top_k(fused, 3).tolist() == [[1, 3, 2], [0, 2, 1]]
    assert top_k(fused, 10).shape == (2, 4)


def test_tfidf_prefers_shared_rare_words():
    space = TfidfSpace(["hardship withdrawal of deferrals"], ["loans to participants", "hardship distributions of deferrals"])
    sim = space.similarity()
    assert sim[0, 1] > sim[0, 0]


def _full_vocabulary_cosine(a: list[str], b: list[str]) -> np.ndarray:
    """The textbook computation (every term a column), to check the shared-terms shortcut."""
    docs = [Counter(content_words(t)) for t in a + b]
    df = Counter(t for d in docs for t in d)
    vocab = sorted(df)
    m = np.array([[(1 + math.log(d[t])) * (math.log((1 + len(docs)) / (1 + df[t])) + 1) if t in d else 0.0
                   for t in vocab] for d in docs])
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    return m[: len(a)] @ m[len(a):].T


def test_tfidf_equals_the_full_vocabulary_computation():
    a = ["hardship withdrawal of elective deferrals", "loans to participants and beneficiaries", "trustee powers"]
    b = ["hardship distributions of deferrals deferrals", "participant loans", "vesting schedule", ""]
    got = TfidfSpace(a, b, heading_terms).similarity()
    assert got.shape == (3, 4)
    assert np.allclose(got, _full_vocabulary_cosine(a, b), atol=1e-6)
    assert TfidfSpace([], b).similarity().shape == (0, 4)


def test_stem_and_character_views_forgive_inflection_and_garble():
    assert stem_terms("Contributions contributed") == ["contr", "contr", "contr_contr"]
    assert char_terms("loan") == ["#loan", "loan#"] and char_terms("tax") == ["#tax#"]
    # the same terms inflected differently: the word view sees nothing shared, the stem view does
    a, b = ["eligible employees deferrals"], ["eligibility employee deferral", "vesting schedule"]
    assert TfidfSpace(a, b).similarity()[0, 0] == 0.0
    assert TfidfSpace(a, b, stem_terms).similarity()[0, 0] > 0.5
    # extraction garble: "Noneligible" for "Nonelective" still shares character n-grams
    garbled = TfidfSpace(["noneligible contribution"], ["nonelective contributions", "loan policy"], char_terms).similarity()
    assert garbled[0, 0] > 0.3 and garbled[0, 1] == 0.0


def test_compatibility_matrix_is_the_table_pair_by_pair():
    src = ["vesting", "loans", "other", "definition", "trust"]
    tgt = list(PROVISION_TYPES)
    got = compatibility_matrix(src, tgt)
    assert got.tolist() == [[compatible(x, y) for y in tgt] for x in src]
    assert got[0, tgt.index("distributions")] and not got[1, tgt.index("vesting")]
    assert compatibility_matrix([], tgt).shape == (0, len(tgt))


def test_plan_counts_before_paying():
    c = plan_counts(565, 466, 20)
    assert c["pairs_in"] == 565 * 466 and c["pairs_kept"] == 565 * 20 and c["verifier_calls_per_source"] == 565


def _set(probs_like: list[float]) -> CandidateSet:
    feats = np.zeros((len(probs_like), len(FEATURES)), np.float32)
    return CandidateSet("s1", [f"t{i}" for i in range(len(probs_like))], feats, np.array(probs_like, np.float32))


def test_decision_rule_match_alternates_abstain_no_match():
    rule = DecisionRule(match_threshold=0.5, partial_threshold=0.75, alternate_ratio=0.6, abstain_floor=0.3)
    v = decide(_set([0.9, 0.6, 0.2]), np.array([0.9, 0.6, 0.2]), rule)
    assert (v.target_id, v.status, v.alternates) == ("t0", "match", ("t1",))
    v = decide(_set([0.2, 0.6]), np.array([0.2, 0.6]), rule)
    assert (v.target_id, v.status) == ("t1", "partial")
    v = decide(_set([0.4, 0.1]), np.array([0.4, 0.1]), rule)
    assert (v.target_id, v.status) == (None, "abstain")
    assert v.confidence == pytest.approx(0.6)
    v = decide(_set([0.1]), np.array([0.1]), rule)
    assert (v.target_id, v.status) == (None, "no_match")
    v = decide(_set([]), np.array([]), rule)
    assert v.status == "no_match"


def _fixture(n=40, seed=0, signal="cosine", none_every=0):
    """Candidate sets where one feature carries the signal; every `none_every`-th item has no counterpart."""
    rng = np.random.default_rng(seed)
    sets, gold = [], {}
    col = FEATURES.index(signal)
    for s in range(n):
        feats = rng.normal(size=(5, len(FEATURES))).astype(np.float32)
        right = int(rng.integers(5))
        none = none_every and s % none_every == 0
        if not none:
            feats[right, col] += 4.0
        fused = feats[:, col] / 10
        sets.append(CandidateSet(f"s{s:03d}", [f"s{s}t{i}" for i in range(5)], feats, fused))
        gold[f"s{s:03d}"] = GoldItem(f"s{s:03d}", () if none else (f"s{s}t{right}",), "none" if none else "equivalent")
    return sets, gold


def test_monotone_fit_learns_and_never_weighs_against_meaning():
    sets, gold = _fixture()
    model = fit(*train.training_rows(sets, gold))
    assert model.coef[model.features.index("cosine")] > 1.0
    assert (model.coef >= 0).all() and "position_gap" not in model.features
    # lexical *against* the labels (the right candidate has the lowest): a free model would weigh it
    # negatively; the monotone one gives it zero, so more lexical overlap never lowers p
    lex = FEATURES.index("lexical")
    for cs in sets:
        right = [t in gold[cs.source_id].targets for t in cs.target_ids].index(True)
        cs.features[:, lex] = 1.0
        cs.features[right, lex] = -3.0
    model = fit(*train.training_rows(sets, gold))
    assert model.coef[model.features.index("lexical")] == 0.0
    gap = model.features.index("fused_gap")  # a -1 feature is oriented, not dropped
    assert DIRECTION["fused_gap"] == -1 and model.signs[gap] == -1


def test_blocked_folds_are_contiguous_and_the_half_fold_is_last():
    items = list(range(23))
    folds = train.blocked_folds(items, blocks=5)
    assert len(folds) == 6
    tests = [test for _, test in folds[:5]]
    assert [x for t in tests for x in t] == items  # every item tested once, in order
    assert all(t == list(range(t[0], t[-1] + 1)) for t in tests)  # contiguous
    assert all(set(tr).isdisjoint(te) for tr, te in folds)
    assert folds[5] == (items[:11], items[11:])


def test_blocked_cv_reports_model_and_baseline_on_the_same_blocks():
    sets, gold = _fixture(60, none_every=5)
    model = train.blocked_cross_validate(sets, gold, train.verifier_fitter(train.FEATURE_SETS["compact"]))
    baseline = train.blocked_cross_validate(sets, gold, train.baseline_fitter)
    assert len(model.per_block) == len(baseline.per_block) == 5 and model.half is not None
    assert set(model.probabilities) == set(gold)  # every labelled item predicted out of block
    assert model.pooled.f1 > 0.85 and baseline.pooled.f1 > 0.85  # fused carries the same signal here
    assert model.pooled.none_accuracy > 0.5


def test_calibration_makes_p_an_observed_frequency():
    sets, gold = _fixture(80, none_every=4)
    model, oof = train.fit_calibrated(sets, gold, train.FEATURE_SETS["compact"])
    xs, ys = model.calibration
    assert list(xs) == sorted(xs) and all(b >= a - 1e-12 for a, b in zip(ys, ys[1:]))  # monotone map
    p, right, _ = train.top_outcomes(sets, oof, gold)
    # on the calibration data, mean predicted p and the observed rate agree in the high and low bands
    for lo, hi in ((0.0, 0.5), (0.5, 1.01)):
        inside = (p >= lo) & (p < hi)
        if inside.sum() >= 10:
            assert abs(p[inside].mean() - right[inside].mean()) < 0.15
    table = train.reliability_table(sets, oof, gold)
    assert sum(r["items"] for r in table) == len(sets)


def test_bands_settle_only_what_is_right_and_never_none_with_strong_evidence():
    feats = np.zeros((1, len(FEATURES)), np.float32)
    def cs(sid, target, fused):
        return CandidateSet(sid, [target], feats, np.array([fused], np.float32))
    sets = [cs("a", "a1", 0.9), cs("b", "x", 0.9), cs("n", "y", 0.1), cs("m", "m1", 0.5), cs("k", "k1", 0.1)]
    gold = {"a": GoldItem("a", ("a1",), "equivalent"), "b": GoldItem("b", ("b1",), "equivalent"),
            "n": GoldItem("n", (), "none"), "m": GoldItem("m", ("m1",), "equivalent"),
            "k": GoldItem("k", ("k1",), "equivalent")}
    probs = {"a": np.array([0.97]), "b": np.array([0.6]), "n": np.array([0.02]), "m": np.array([0.03]),
             "k": np.array([0.5])}
    # m (p 0.03) has a counterpart, but its fused 0.5 is strong evidence: never settled as none
    row = train.settle_table(sets, probs, gold, strong_floor=0.4, bands=[(0.05, 0.95)])[0]
    assert (row["settled"], row["settled_wrong"], row["to_llm"]) == (2, 0, 3)
    row = train.settle_table(sets, probs, gold, strong_floor=1.01, bands=[(0.05, 0.95)])[0]
    assert (row["settled"], row["settled_wrong"]) == (3, 1)  # without the guard m is settled wrong
    low, high = train.choose_bands(sets, probs, gold, strong_floor=0.4, max_wrong=0.0, settle_none=True)
    settled = train.settle_table(sets, probs, gold, 0.4, [(low, high)])[0]
    assert settled["settled_wrong"] == 0 and settled["settled"] >= 2
    assert strong_evidence(sets[3], 0.4) and not strong_evidence(sets[2], 0.4)
    # without settle_none "no counterpart" is always asked: the low band stays 0
    assert train.choose_bands(sets, probs, gold, strong_floor=0.4, max_wrong=0.0, settle_none=False)[0] == 0.0


def test_bands_keep_each_side_right_more_often_than_a_strong_model():
    """A band that settles 1 wrong in 10 is refused even where that is under the share-of-items cap:
    an item settled locally is one the LLM cannot repair."""
    feats = np.zeros((1, len(FEATURES)), np.float32)
    sets, gold, probs = [], {}, {}
    for n in range(100):  # 100 items the model must be asked about: p 0.5, right half the time
        sets.append(CandidateSet(f"u{n}", [f"u{n}t"], feats, np.array([0.5], np.float32)))
        gold[f"u{n}"] = GoldItem(f"u{n}", (f"u{n}t",) if n % 2 else ("other",), "equivalent")
        probs[f"u{n}"] = np.array([0.5])
    for n in range(10):  # p 0.82: 9 right, 1 wrong; p 0.96: 10 right
        for tag, p, wrong in (("h", 0.82, n == 0), ("v", 0.96, False)):
            sid = f"{tag}{n}"
            sets.append(CandidateSet(sid, [f"{sid}t"], feats, np.array([0.9], np.float32)))
            gold[sid] = GoldItem(sid, ("other",) if wrong else (f"{sid}t",), "equivalent")
            probs[sid] = np.array([p])
    low, high = train.choose_bands(sets, probs, gold, strong_floor=1.01, max_wrong=0.015)
    row = train.settle_table(sets, probs, gold, 1.01, [(low, high)])[0]
    assert (row["as_match"], row["as_match_wrong"]) == (10, 0) and 0.82 < high <= 0.96
    # the share-of-items cap alone (1 of 120 < 1.5%) would have settled the 0.82 band too
    low, high = train.choose_bands(sets, probs, gold, strong_floor=1.01, max_wrong=0.015, max_error=1.0)
    assert high <= 0.82


def test_claim_margin_sees_a_target_claimed_by_a_stronger_source():
    from crosswalk.verify.features import Ranking

    class M:  # the one matrix Ranking reads
        fused = np.array([[0.9, 0.1], [0.5, 0.2], [0.1, 0.3]], np.float32)

    class Target:
        fingerprints = []

    ranking = Ranking.of(Target(), M, 1)
    assert ranking.claim_margin(M, 0, 0) == pytest.approx(0.9 - 0.5)   # source 0 is target 0's best claimant
    assert ranking.claim_margin(M, 1, 0) == pytest.approx(0.5 - 0.9)   # source 1 is outbid by source 0
    assert ranking.claim_margin(M, 2, 1) == pytest.approx(0.3 - 0.2)


def test_threshold_prefers_abstaining_where_f1_is_flat():
    from crosswalk.verify.train import best_threshold

    feats = np.zeros((1, len(FEATURES)), np.float32)
    sets = [CandidateSet("a", ["a1"], feats, feats[:, 0]), CandidateSet("n", ["x"], feats, feats[:, 0]),
            CandidateSet("b", ["b1"], feats, feats[:, 0])]
    gold = {"a": GoldItem("a", ("a1",), "equivalent"), "n": GoldItem("n", (), "none"),
            "b": GoldItem("b", ("b1",), "equivalent")}
    # n (no counterpart) is matched below 0.4; b is lost above 0.7: F1 is best on (0.4, 0.7].
    probs = {"a": np.array([0.95]), "n": np.array([0.4]), "b": np.array([0.7])}
    t = best_threshold(sets, probs, gold)
    assert 0.675 < t <= 0.7  # the highest of the equally good thresholds, not the first


def test_threshold_curve_trades_recall_for_abstention():
    from crosswalk.verify.train import threshold_curve

    feats = np.zeros((1, len(FEATURES)), np.float32)
    sets = [CandidateSet(s, [t], feats, feats[:, 0]) for s, t in (("a", "a1"), ("n", "x"), ("b", "b1"))]
    gold = {"a": GoldItem("a", ("a1",), "equivalent"), "n": GoldItem("n", (), "none"),
            "b": GoldItem("b", ("b1",), "equivalent")}
    probs = {"a": np.array([0.95]), "n": np.array([0.6]), "b": np.array([0.7])}
    low, mid, high = threshold_curve(sets, probs, gold, [0.3, 0.65, 0.8])
    # 0.3: n is matched (a false positive), nothing is lost
    assert (low["precision"], low["recall"], low["none_accuracy"]) == (pytest.approx(0.667, abs=1e-3), 1.0, 0.0)
    # 0.65: n is answered null, both matches kept
    assert (mid["precision"], mid["recall"], mid["none_accuracy"]) == (1.0, 1.0, 1.0)
    # 0.8: b is lost, n null
    assert (high["recall"], high["none_accuracy"], high["precision"]) == (0.5, 1.0, 1.0)


def test_shipped_models_load_and_verify():
    for kind in ("bpd", "aa"):
        model = load_model(kind)
        assert set(model.features) <= set(FEATURES) and "position_gap" not in model.features
        assert (model.coef >= 0).all() and 0.0 < model.meta["threshold"] < 1.0
        low, high = model.meta["bands"]
        assert 0.0 <= low < high <= 1.01 and model.meta["feature_set"] in train.FEATURE_SETS
    verdicts = asyncio.run(LocalVerifier(load_model("bpd"), DecisionRule()).verify([_set([0.5, 0.4])]))
    assert len(verdicts) == 1 and verdicts[0].source_id == "s1"


def test_option_mapping_pairs_reworded_added_removed():
    s = Election(id="s", question_text="Vesting", kind="single_select", options=(
        ElectionOption(label="a", text="100% immediate."), ElectionOption(label="b", text="Three-year cliff."),
        ElectionOption(label="c", text="Other schedule:")))
    t = Election(id="t", question_text="Vesting", kind="single_select", options=(
        ElectionOption(label="a", text="Cliff vesting after three years."), ElectionOption(label="b", text="Six year graded."),
        ElectionOption(label="c", text="100% immediate.")))
    m = {(o.source_label, o.target_label): o.change for o in map_options(s, t)}
    assert m[("a", "c")] == "same"
    assert m[("b", "a")] == "reworded"
    assert m[("c", None)] == "removed" and m[(None, "b")] == "added"


def test_candidate_sets_built_in_chunks_equal_one_build():
    """The pipeline streams chunks of source rows with one shared Ranking: same sets as one build."""
    from crosswalk.candidates import make_side, score_matrices
    from crosswalk.fingerprint import fingerprint
    from crosswalk.models import Provision
    from crosswalk.verify.features import Ranking, build_candidate_sets

    rng = np.random.default_rng(3)
    words = ["vesting", "loans", "hardship", "compensation", "entry", "trustee", "forfeiture", "rollover"]

    def side(prefix: str, n: int):
        items = [Provision(id=f"{prefix}{i}", title=words[i % 8].title(),
                           text=f"{words[i % 8]} {words[(i * 3) % 8]} rule {i}") for i in range(n)]
        vectors = rng.normal(size=(n, 8)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return make_side([p.id for p in items], [fingerprint(p) for p in items], vectors, vectors)
    source, target = side("s", 11), side("t", 9)
    m = score_matrices(source, target)
    whole = build_candidate_sets(source, target, m, 4)
    ranking = Ranking.of(target, m, 4)
    chunked = [cs for start in range(0, 11, 3)
               for cs in build_candidate_sets(source, target, m, 4, range(start, min(start + 3, 11)), ranking)]
    assert [cs.source_id for cs in chunked] == [cs.source_id for cs in whole]
    assert all(a.target_ids == b.target_ids and np.array_equal(a.features, b.features) for a, b in zip(whole, chunked))


def test_passage_max_and_record_means_equal_their_loops():
    from crosswalk.candidates import make_side, passage_max
    from crosswalk.fingerprint import fingerprint
    from crosswalk.models import Provision

    rng = np.random.default_rng(5)

    def side(counts):
        v = rng.normal(size=(sum(counts), 6)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        fps = [fingerprint(Provision(id=f"r{i}", title="Loans", text="Loans are permitted.")) for i in range(len(counts))]
        return make_side([f"r{i}" for i in range(len(counts))], fps, v, v[:len(counts)], counts), v

    (source, sv), (target, tv) = side([1, 3, 2]), side([2, 1, 1, 4])
    bounds = lambda counts: np.split(np.arange(sum(counts)), np.cumsum(counts)[:-1])
    rows_s, rows_t = bounds([1, 3, 2]), bounds([2, 1, 1, 4])
    want = np.array([[(sv[a] @ tv[b].T).max() for b in rows_t] for a in rows_s])
    assert np.allclose(passage_max(source, target), want, atol=1e-6)
    mean = sv[rows_s[1]].sum(axis=0)
    assert np.allclose(source.vectors[1], mean / np.linalg.norm(mean), atol=1e-6)
    assert np.allclose(source.vectors[0], sv[0], atol=1e-6)  # a one-passage record keeps its own vector


def test_relative_features_rank_ties_together_and_standardise():
    from crosswalk.verify.features import BASE_FEATURES, RANKED, STANDARDISED, relative_features

    rows = np.zeros((4, len(BASE_FEATURES)), np.float32)
    rows[:, BASE_FEATURES.index("lexical")] = [0.9, 0.5, 0.5, 0.1]
    rel = relative_features(rows)
    z = rel[:, STANDARDISED.index("lexical")]
    assert abs(z.mean()) < 1e-6 and z[0] > z[1] == z[2] > z[3]
    ranks = rel[:, len(STANDARDISED) + RANKED.index("lexical")]
    assert ranks.tolist() == [1.0, 0.5, 0.5, 0.25]  # the two 0.5s share rank 1; the last has three above it
    assert rel[:, len(STANDARDISED) + RANKED.index("code_overlap")].tolist() == [1.0] * 4  # all tied: all first
    assert relative_features(np.zeros((0, len(BASE_FEATURES)), np.float32)).shape == (0, len(STANDARDISED) + len(RANKED))


def test_a_question_printed_again_is_answered_with_its_first_print():
    """The target AA repeats questions in its attachments: the crosswalk points at the first print
    (the gold labels list it), and the LLM is shown each text once."""
    from crosswalk.candidates import make_side, score_matrices
    from crosswalk.fingerprint import fingerprint
    from crosswalk.verify.features import build_candidate_sets, distinct_order, first_copies

    def election(id_: str, context: str, question: str, options: tuple[str, ...]) -> Election:
        return Election(id=id_, section_context=context, question_text=question,
                        options=tuple(ElectionOption(label=chr(97 + n), text=t) for n, t in enumerate(options)))

    business = ("Sole Proprietorship", "Partnership", "C Corporation", "S Corporation")
    target = [election("t0", "Part A - Adopting Employer", "Type of Business (select one)", business),
              election("t1", "Part B - Vesting", "Vesting schedule for matching contributions", ("Six year graded",)),
              election("t2", "Participating Employer Information", "Type of Business (select one):", business),
              election("t3", "Other", "Other: ____", ()), election("t4", "Other", "Other: ____", ())]
    source = [election("s0", "Employer Information", "TYPE OF ENTITY",
                       ("Corporation", "S Corporation", "Partnership", "Sole Proprietorship"))]

    def side(items):
        vectors = np.eye(len(items), 8, dtype=np.float32)
        return make_side([e.id for e in items], [fingerprint(e) for e in items], vectors, vectors)
    s, t = side(source), side(target)
    (cs,) = build_candidate_sets(s, t, score_matrices(s, t), 5)
    copies = dict(zip(cs.target_ids, (cs.target_ids[f] for f in cs.first_copy)))
    assert copies["t2"] == "t0" and copies["t0"] == "t0"
    assert copies["t4"] == "t4" and copies["t1"] == "t1"  # too short to call a copy; not the same words
    # the decision: the later print scores higher, the answer is the first print, the copy an alternate
    probs = np.array([0.9 if tid == "t2" else 0.7 if tid == "t0" else 0.1 for tid in cs.target_ids])
    verdict = decide(cs, probs, DecisionRule(match_threshold=0.5))
    assert verdict.target_id == "t0" and "t2" in verdict.alternates and verdict.confidence == pytest.approx(0.9)
    # shown to the LLM: each text once, as its first print, at its best copy's rank
    shown = [cs.target_ids[j] for j in distinct_order(cs, np.argsort(-probs))]
    assert shown[0] == "t0" and "t2" not in shown and len(shown) == len(cs.target_ids) - 1
    # and with no copies, nothing to fold
    assert first_copies([("a", "b", "c", "d"), ("e", "f", "g", "h")], [1, 0]) == ()
