"""Extraction benchmark: render the shared corpus as PDFs in several layouts, extract them
back, and score per layout what came back.

    python bench/extraction.py [--ocr-pages 12] [--seeds 30] [--scan-seeds 10] [--json]

A corpus record counts as found when an extracted record's text matches it with
normalized similarity >= 0.9 (lower case, punctuation and blanks dropped; difflib
ratio over the words). Split: a record not found whose text went to two or more extracted records.
Merged: an extracted record holding two or more different whole corpus records (of 8+
words: a short label such as "City" inside a longer question is no merge). AA: option
accuracy is the share of found elections whose options come back with the same labels
and texts; selection accuracy the share of their options whose ticked state is right;
value accuracy the share of text questions whose typed value comes back. AA records
that are options the earlier extraction split out as questions ("m. Other: ____") are
drawn as options and count as found when they come back as an option.

Layout fuzzer (`--seeds N`, bench/fuzz.py): the corpus in N random styles (fonts, sizes,
columns, headings bold or plain, spacing, numbering, run-in definitions, list layout,
watermarks, box kinds, grid AAs), scored the same way, printed as the median, the worst
decile (10th percentile) and the worst seed of each figure. Whole text (a diagnostic): records
whose text comes back whole, if cut or joined differently from the corpus's records. Titles: the share of corpus
records with a printed heading or defined term whose extracted provision carries it as
its title. Ticks: ticked options read minus boxes ticked (0 is exact). Scans: the first
--scan-pages pages of a fuzzed BPD as an image-only copy at the style's resolution, skew
and noise, OCR'd, for the first --scan-seeds seeds. By paragraph rule: the strict BPD recall an
extractor would reach reading every heading and paragraph right, with one rule for whether a
paragraph starts a record (the corpus keeps some further paragraphs in their record and cuts others
off, and the layout shows both alike): what each rule allows, beside the fuzzed figures.

The OCR rows read an image-only copy of the first --ocr-pages pages (Tesseract takes
about a second a page on this machine) and score the records rendered on those pages.
"""

from __future__ import annotations

import difflib
import json
import re
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import corpus_missing, parse_args

import fuzz
from render import is_option_like, option_label, render_aa, render_bpd, scan_copy

from crosswalk.extract.pdf import document_from_text, read_text

CORPUS = "corpus/relius-to-ascensus"
FOUND = 0.9


def normalize(text: str) -> str:
    text = re.sub(r"_{2,}", " ", text.lower())
    return " ".join(re.findall(r"[a-z0-9]+", text))


def similarity(a: str, b: str) -> float:
    """difflib's ratio over the words of two normalized texts (characters would be quadratic in long provisions)."""
    return difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def _shingles(words: list[str], n: int = 4) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


class Index:
    """Extracted texts, looked up by shared 4-word shingles before difflib scores the few that share most."""

    def __init__(self, texts: list[str]):
        self.texts = [normalize(t) for t in texts]
        self.shingles = [_shingles(t.split()) for t in self.texts]
        self.by_shingle: dict[tuple, list[int]] = defaultdict(list)
        for i, shingles in enumerate(self.shingles):
            for s in shingles:
                self.by_shingle[s].append(i)

    def overlaps(self, text: str) -> dict[int, int]:
        votes: dict[int, int] = defaultdict(int)
        for s in _shingles(normalize(text).split()):
            for i in self.by_shingle.get(s, ()):
                votes[i] += 1
        return votes

    def ranked(self, text: str) -> list[int]:
        """Extracted records by shingles shared with `text`, most first; ties by position (the
        votes come out of sets, whose order changes with Python's hash seed from run to run)."""
        votes = self.overlaps(text)
        return sorted(votes, key=lambda i: (-votes[i], i))

    def best(self, text: str, top: int = 3) -> float:
        target = normalize(text)
        ranked = self.ranked(text)[:top]
        return max((similarity(target, self.texts[i]) for i in ranked), default=0.0)


def score_records(expected: list[str], extracted: list[str]) -> dict:
    """Recall, split and merge counts of `expected` texts among `extracted` ones."""
    index = Index(extracted)
    found = [index.best(t) >= FOUND for t in expected]
    owners: dict[int, list[int]] = defaultdict(list)   # extracted record -> corpus records wholly inside it
    pieces: dict[int, int] = defaultdict(int)          # corpus record -> extracted records holding a part of it
    for n, text in enumerate(expected):
        shingles = _shingles(normalize(text).split())
        for i, votes in index.overlaps(text).items():
            if votes >= 0.8 * len(shingles) and len(shingles) >= 5:  # a short label ("City") is no evidence
                owners[i].append(n)
            if votes >= 3 and votes >= 0.5 * len(index.shingles[i]):
                pieces[n] += 1
    # two or more different texts (the target AA repeats questions word for word: not a merge)
    merged = sum(len({normalize(expected[n]) for n in v}) >= 2 for v in owners.values())
    split = sum(1 for n, ok in enumerate(found) if not ok and pieces[n] >= 2)
    return {"records": len(expected), "extracted": len(extracted), "recall": sum(found) / max(len(expected), 1),
            "split": split, "merged": merged, "found": found}


def bpd_row(records: list[dict], pdf: Path) -> dict:
    started = time.perf_counter()
    text = read_text(pdf)
    doc = document_from_text(text, "bpd")
    seconds = time.perf_counter() - started
    extracted = [p.text for p in doc.provisions]
    result = score_records([r["provision_text"] for r in records], extracted)
    result.pop("found")
    return {**result, "pages": len(text.pages), "pages_per_s": len(text.pages) / seconds,
            "paths": sorted(set(text.page_paths))}


def _instance(doc, index: Index, votes: dict[int, int], record: dict, truth):
    """The extracted election a found record came back as. The target AA repeats questions in an
    attachment: among the near-identical texts, the one drawn on the same page whose options agree best."""
    target = normalize(record["question_text"])
    scored = [(similarity(target, index.texts[i]), i) for i in votes]
    best = max(s for s, _ in scored)
    near = [i for s, i in scored if s >= min(best, FOUND)]
    page = truth.pages[record["id"]]
    want = [normalize(o["option_text"]) for o in record.get("options") or []]

    def agreement(i: int) -> float:
        got = [normalize(o.text) for o in doc.elections[i].options]
        return sum(similarity(a, b) for a, b in zip(want, got)) / max(len(want), 1)

    return doc.elections[min(near, key=lambda i: (abs((doc.elections[i].page or 0) - page), -agreement(i),
                                                  -similarity(target, index.texts[i])))]


def read_aa(records: list[dict], pdf: Path):
    """Extract an AA PDF and score its questions: (text, document, seconds, the records that are real
    questions, their scores, how many options split out as questions came back as options, an
    index of the extracted questions)."""
    started = time.perf_counter()
    text = read_text(pdf)
    doc = document_from_text(text, "aa")
    seconds = time.perf_counter() - started
    questions = [e.question_text for e in doc.elections]
    real = [r for r in records if not is_option_like(r)]
    result = score_records([r["question_text"] for r in real], questions)
    # a record that is an option split out as a question is found when it comes back as an option
    options = Index([o.text for e in doc.elections for o in e.options])
    found_split = sum(options.best(option_label(r)[1]) >= FOUND for r in records if is_option_like(r))
    return text, doc, seconds, real, result, found_split, Index(questions)


def aa_row(records: list[dict], truth, pdf: Path) -> dict:
    text, doc, seconds, real, result, found_options, index = read_aa(records, pdf)
    # options split out as questions are drawn under the question before them: that one then has them too
    extra: dict[str, int] = defaultdict(int)
    owner = None
    for r in records:
        if not is_option_like(r):
            owner = r["id"]
        elif owner:
            extra[owner] += 1 + len(r.get("options") or [])
    options_ok = selection_ok = selection_n = values_ok = values_n = found = 0
    for r, ok in zip(real, result.pop("found")):
        if not ok:
            continue
        found += 1
        votes = index.overlaps(r["question_text"])
        e = _instance(doc, index, votes, r, truth)
        want = r.get("options") or []
        if not want:
            values_n += 1
            values_ok += (e.selected_value or "") == truth.values.get(r["id"], "")
            options_ok += len(e.options) == extra[r["id"]]
            continue
        same = len(e.options) == len(want) + extra[r["id"]] and all(
            similarity(normalize(o["option_text"]), normalize(g.text)) >= FOUND for o, g in zip(want, e.options))
        options_ok += same
        if same:
            states = truth.selected[r["id"]]
            selection_n += len(states)
            selection_ok += sum(bool(g.is_selected) == s for g, s in zip(e.options, states))
    result["recall"] = (result["recall"] * len(real) + found_options) / max(len(records), 1)
    result["records"] = len(records)
    return {**result, "option_accuracy": options_ok / max(found, 1),
            "selection_accuracy": selection_ok / max(selection_n, 1), "value_accuracy": values_ok / max(values_n, 1),
            "pages": len(text.pages), "pages_per_s": len(text.pages) / seconds, "paths": sorted(set(text.page_paths))}


def title_recall(records: list[dict], doc, index: Index) -> float:
    """Share of records with a printed title whose best-matching provision carries that title."""
    titled = [r for r in records if r["section_title"].strip()]
    ok = 0
    for r in titled:
        ranked = index.ranked(r["provision_text"])
        if not ranked:
            continue
        target = normalize(r["provision_text"])
        best = max(ranked[:3], key=lambda i: similarity(target, index.texts[i]))
        want, got = normalize(r["section_title"]), normalize(doc.provisions[best].title)
        ok += bool(want) and (want == got or want in got)
    return ok / max(len(titled), 1)


# A paragraph that opens a list item is one the fuzzer draws as a list item (`fuzz.LIST_START`)
PARAGRAPH_RULES = {
    "every paragraph its own": lambda before, paragraph: False,
    "list items kept": lambda before, paragraph: bool(fuzz.LIST_START.match(paragraph)) and before.rstrip()[-1:] in ":;",
    "unlabelled kept": lambda before, paragraph: not fuzz.LIST_START.match(paragraph) or before.rstrip()[-1:] in ":;",
    "every paragraph kept": lambda before, paragraph: True,
}


def paragraph_rule_recall(records: list[dict]) -> dict[str, float]:
    """Strict recall of an extractor that reads every heading and paragraph of the page right, under
    one rule for whether a paragraph with no heading of its own starts a record (per rule).

    The fuzzer draws a record's paragraphs as paragraphs, as a printed document shows them. The corpus
    (a vision model's extraction) keeps some further paragraphs in their record and cuts others into
    records of their own, and the layout shows both alike (target BPD: 58 records hold several
    paragraphs, 37 are a paragraph that follows another record's), so a rule over the page's layout
    cannot find every record. The figures say how far each simple rule gets, from the corpus alone."""
    paragraphs = []  # (text, whether a heading of its own opens it)
    previous = None
    for r in records:
        key = (r["section_number"].strip(), r["section_title"].strip())
        headed = any(key) and key != previous  # as the fuzzer draws them: a repeated heading is not drawn again
        previous = key
        chunks = [c.strip() for c in re.split(r"\n\s*\n", r["provision_text"]) if c.strip()]
        paragraphs += [(chunk, headed and n == 0) for n, chunk in enumerate(chunks)]
    expected = [r["provision_text"] for r in records]
    recall = {}
    for name, keep in PARAGRAPH_RULES.items():
        read: list[list[str]] = []
        for text, headed in paragraphs:
            if read and not headed and keep(read[-1][-1], text):
                read[-1].append(text)
            else:
                read.append([text])
        recall[name] = score_records(expected, ["\n\n".join(r) for r in read])["recall"]
    return recall


def fuzz_bpd_row(records: list[dict], pdf: Path) -> dict:
    started = time.perf_counter()
    text = read_text(pdf)
    doc = document_from_text(text, "bpd")
    seconds = time.perf_counter() - started
    extracted = [p.text for p in doc.provisions]
    result = score_records([r["provision_text"] for r in records], extracted)
    long_numbers = sum(len(p.section_number) > 12 for p in doc.provisions)
    titles = {normalize(p.title) for p in doc.provisions}
    numbered = [r for r in records if re.match(r"^\d{1,2}\.\d{1,3}$", r["section_number"].strip())
                and r["section_title"].strip() and not _is_definition(r)]
    definitions = [n for n, r in enumerate(records) if _is_definition(r)]
    return {"recall": result["recall"], "titles": title_recall(records, doc, Index(extracted)),
            # the two real-text figures: numbered headings that became a provision's title
            # (anywhere), and definitions that came back as one provision each
            "heading_titles": sum(any(normalize(r["section_title"]) in t for t in titles) for r in numbered)
            / len(numbered) if numbered else None,
            "definitions": sum(result["found"][n] for n in definitions) / len(definitions) if definitions else None,
            "whole": whole_text_recall([r["provision_text"] for r in records], extracted),
            "long_numbers": long_numbers, "pages": len(text.pages), "seconds": seconds}


def _is_definition(record: dict) -> bool:
    text = record["provision_text"].lstrip()
    return text[:1] in "'\"‘“" or text.startswith("Means")


def whole_text_recall(expected: list[str], extracted: list[str]) -> float:
    """A diagnostic beside strict recall: the share of records whose text comes back whole and in
    order, in one provision or in consecutive ones (cut into paragraphs where the corpus kept them
    as one record), or inside a longer one (kept with a neighbour the corpus cut off). What it
    misses is text lost, garbled or put in the wrong place; what strict recall misses beyond it
    is only where records begin and end."""
    index = Index(extracted)
    found = 0
    for text in expected:
        target = normalize(text)
        votes = index.overlaps(text)
        if not votes:
            continue
        shingles = _shingles(target.split())
        best = index.ranked(text)[0]
        if index.best(text) >= FOUND or votes[best] >= 0.9 * len(shingles):
            found += 1
            continue
        # consecutive provisions around the best one
        found += any(similarity(target, " ".join(index.texts[start:end])) >= FOUND
                     for start in range(max(0, best - 3), best + 1)
                     for end in range(start + 1, min(len(extracted), start + 5) + 1))
    return found / max(len(expected), 1)


def fuzz_aa_row(records: list[dict], truth, pdf: Path) -> dict:
    """Question recall (options split out as questions count when they come back as options), option
    recall over the found questions' options, and ticked options read against boxes ticked."""
    text, doc, seconds, real, result, found_split, index = read_aa(records, pdf)
    want_n = got_n = 0
    for r, ok in zip(real, result["found"]):
        want = [normalize(o["option_text"]) for o in r.get("options") or []]
        want_n += len(want)
        if not ok or not want:
            continue
        e = _instance(doc, index, index.overlaps(r["question_text"]), r, truth)
        got = [normalize(o.text) for o in e.options]
        got_n += sum(any(similarity(w, g) >= FOUND for g in got) for w in want)
    ticked = sum(sum(states) for states in truth.selected.values())
    read = sum(bool(o.is_selected) for e in doc.elections for o in e.options)
    return {"recall": (sum(result["found"]) + found_split) / max(len(records), 1),
            "option_recall": got_n / max(want_n, 1), "ticks_true": ticked, "ticks_read": read,
            "tick_diff": read - ticked, "pages": len(text.pages), "seconds": seconds}


def _decile(values: list[float], worst_high: bool = False) -> float:
    """The worst decile's edge: the 10th percentile (the 90th when high is bad)."""
    ordered = sorted(values, reverse=worst_high)
    return ordered[int(0.1 * len(ordered))] if ordered else float("nan")


def run_fuzz(corpus: Path, out: Path, seeds: int, scan_seeds: int, scan_pages: int) -> dict:
    """Every figure per seed, and its median, worst decile and worst seed."""
    docs = {name: json.loads((corpus / f"{name}.json").read_text())
            for name in ("source_bpd", "target_bpd", "source_aa", "target_aa")}
    per_seed = []
    for seed in range(seeds):
        style = fuzz.random_style(seed)
        row = {"seed": seed, "style": style.describe()}
        for name in ("source_bpd", "target_bpd"):
            pdf = out / f"fuzz-{seed}-{name}.pdf"
            truth = fuzz.render_bpd(docs[name], pdf, style)
            row[name] = fuzz_bpd_row(docs[name]["records"], pdf)
            if seed < scan_seeds:
                scan = out / f"fuzz-{seed}-{name}-scan.pdf"
                fuzz.scan_copy(pdf, scan, style, scan_pages)
                shown = [r for r in docs[name]["records"] if truth.pages[r["id"]] < scan_pages]
                row[f"{name}_scan"] = fuzz_bpd_row(shown, scan)
        for name in ("source_aa", "target_aa"):
            pdf = out / f"fuzz-{seed}-{name}.pdf"
            truth = fuzz.render_aa(docs[name], pdf, style)
            row[name] = fuzz_aa_row(docs[name]["records"], truth, pdf)
        per_seed.append(row)
    summary = {}
    for name in ("source_bpd", "target_bpd", "source_bpd_scan", "target_bpd_scan", "source_aa", "target_aa"):
        seeds = [r["seed"] for r in per_seed if name in r]
        rows = [r[name] for r in per_seed if name in r]
        if not rows:
            continue
        figures = {}
        for key in ("recall", "whole", "titles", "heading_titles", "definitions", "option_recall"):
            pairs = [(seed, r[key]) for seed, r in zip(seeds, rows) if r.get(key) is not None]
            if pairs:  # (a scan's first pages may hold no numbered heading: no figure, not 0)
                values = [v for _, v in pairs]
                worst = min(range(len(values)), key=values.__getitem__)
                figures[key] = {"median": statistics.median(values), "worst_decile": _decile(values),
                                "worst": values[worst], "worst_seed": pairs[worst][0], "seeds": len(values)}
        if "tick_diff" in rows[0]:
            diffs = [r["tick_diff"] for r in rows]
            figures["ticks_exact"] = sum(d == 0 for d in diffs) / len(diffs)
            figures["tick_diff_worst"] = max(diffs, key=abs)
        figures["pages_per_s"] = sum(r["pages"] for r in rows) / sum(r["seconds"] for r in rows)
        if name in ("source_bpd", "target_bpd"):
            figures["paragraph_rules"] = paragraph_rule_recall(docs[name]["records"])
        summary[name] = figures
    return {"seeds": per_seed, "summary": summary}


def print_fuzz(fuzzed: dict) -> None:
    n = len(fuzzed["seeds"])
    print(f"\nLayout fuzzer: {n} seeds (median / worst decile / worst seed)")
    print(f"{'document':<17} {'recall':>26} {'whole text':>26} {'titles or options':>26} {'ticks exact':>11} "
          f"{'pages/s':>8}")
    for name, f in fuzzed["summary"].items():
        cell = lambda k: (f"{f[k]['median']:.3f} / {f[k]['worst_decile']:.3f} / {f[k]['worst']:.3f} (#{f[k]['worst_seed']})"
                          if k in f else "")
        second = cell("titles") or cell("option_recall")
        ticks = f"{f['ticks_exact']:.2f} ({f['tick_diff_worst']:+d})" if "ticks_exact" in f else ""
        print(f"{name:<17} {cell('recall'):>26} {cell('whole'):>26} {second:>26} {ticks:>11} {f['pages_per_s']:>8.1f}")
        if "definitions" in f:
            print(f"{'':<17} {'heading titles ' + (cell('heading_titles') or 'n/a'):>53} "
                  f"{'definitions ' + cell('definitions'):>38}")
        if "paragraph_rules" in f:
            rules = ", ".join(f"{rule} {v:.3f}" for rule, v in f["paragraph_rules"].items())
            print(f"{'':<17} recall with all else read right, by paragraph rule: {rules}")


def main() -> None:
    args = parse_args(__doc__, ("--ocr-pages", {"type": int, "default": 12, "help": "pages of each image-only copy to OCR"}),
                      ("--seeds", {"type": int, "default": 30, "help": "fuzzed layouts (0: none)"}),
                      ("--scan-seeds", {"type": int, "default": 10, "help": "fuzzed layouts also scanned and OCR'd"}),
                      ("--scan-pages", {"type": int, "default": 3, "help": "pages of each fuzzed scan"}),
                      ("--fuzz-only", {"action": "store_true", "help": "skip the fixed layouts"}))
    if corpus_missing(args.shared):
        return
    corpus = args.shared / CORPUS
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        fuzzed = run_fuzz(corpus, Path(tmp), args.seeds, args.scan_seeds, args.scan_pages) if args.seeds else None
        if args.fuzz_only:
            print(json.dumps(fuzzed, indent=2)) if args.json else print_fuzz(fuzzed)
            return
        out = Path(tmp)
        for name in ("source_bpd", "target_bpd"):
            doc = json.loads((corpus / f"{name}.json").read_text())
            for layout in ("single", "two-column", "inline"):
                pdf = out / f"{name}-{layout}.pdf"
                truth = render_bpd(doc, pdf, layout)
                rows.append({"document": name, "layout": layout, **bpd_row(doc["records"], pdf)})
                if layout == "single" and args.ocr_pages:
                    scan = out / f"{name}-scan.pdf"
                    scan_copy(pdf, scan, args.ocr_pages)
                    shown = [r for r in doc["records"] if truth.pages[r["id"]] < args.ocr_pages]  # last page may be cut
                    rows.append({"document": name, "layout": f"scan ({args.ocr_pages} p., OCR)",
                                 **bpd_row(shown, scan)})
        for name in ("source_aa", "target_aa"):
            doc = json.loads((corpus / f"{name}.json").read_text())
            for layout in ("glyphs", "drawn", "form"):
                pdf = out / f"{name}-{layout}.pdf"
                truth = render_aa(doc, pdf, layout)
                rows.append({"document": name, "layout": layout, **aa_row(doc["records"], truth, pdf)})
    if args.json:
        print(json.dumps({"layouts": rows, "fuzz": fuzzed}, indent=2))
        return
    print(f"{'document':<11} {'layout':<20} {'records':>7} {'got':>5} {'recall':>7} {'split':>5} {'merged':>6} "
          f"{'options':>7} {'ticks':>6} {'values':>6} {'pages':>5} {'pages/s':>8}  paths")
    for r in rows:
        aa = "option_accuracy" in r
        extra = (f"{r['option_accuracy']:>7.3f} {r['selection_accuracy']:>6.3f} {r['value_accuracy']:>6.3f}" if aa
                 else f"{'':>7} {'':>6} {'':>6}")
        print(f"{r['document']:<11} {r['layout']:<20} {r['records']:>7} {r['extracted']:>5} {r['recall']:>7.3f} "
              f"{r['split']:>5} {r['merged']:>6} {extra} {r['pages']:>5} {r['pages_per_s']:>8.1f}  {','.join(r['paths'])}")
    if fuzzed:
        print_fuzz(fuzzed)


if __name__ == "__main__":
    main()
