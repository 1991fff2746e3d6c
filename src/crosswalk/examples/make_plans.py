"""Filled Adoption Agreements for fictional employers, from one AA template: a fleet to run.

    from crosswalk.examples.make_plans import make_plans
    make_plans(template_doc, 50, folder, scanned_share=0.1, seed=0)

Each plan answers the template's questions at random but validly (one option of a
single-select question, one to three of a multi-select one, a value for each text question
and for the fill-ins of chosen options) and is rendered as a PDF the way `make_pdfs` renders
AAs. A share of them is scanned: every page an image, no text layer (OCR or the vision model).
`vision_fixtures` gives, for a scanned plan, the simulator's replies (`crosswalk fake-api
--vision-fixtures`): a perfect vision model, each page's elections as read from the text copy.
Needs reportlab (the dev extra).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from pathlib import Path

from ..models import Document, Election
from .make_pdfs import HEIGHT, WIDTH, aa_pdf

EMPLOYERS = ("Acme Tool", "Birch Dental", "Cobalt Freight", "Dune Bakery", "Elm Street Clinic", "Fjord Software",
             "Granite Roofing", "Harbor Foods", "Iris Florals", "Juniper Law")
TEXT_VALUES = ("01/01/2027", "12/31", "age 21", "1,000 hours", "3 months", "6%", "$5,000", "N/A", "the Plan Year",
               "Quarterly")


def _answer(e: dict, rng: random.Random) -> dict:
    e = {**e, "options": [dict(o, is_selected=False, fill_ins=[dict(f) for f in o["fill_ins"]]) for o in e["options"]]}
    if e["kind"] == "text" or not e["options"]:  # a value where the question has a blank; headings stay empty
        e["selected_value"] = rng.choice(TEXT_VALUES) if "__" in e["question_text"] else None
        return e
    n = 1 if e["kind"] == "single_select" else rng.randint(1, min(3, len(e["options"])))
    chosen = rng.sample(range(len(e["options"])), n)
    for i in chosen:
        e["options"][i]["is_selected"] = True
        for f in e["options"][i]["fill_ins"]:
            f["value"] = rng.choice(TEXT_VALUES)
    labels = [e["options"][i]["label"] for i in sorted(chosen)]
    e["selected_value"] = labels[0] if e["kind"] == "single_select" else labels
    return e


def filled_plan(template: Document, n: int, rng: random.Random) -> dict:
    """The template (as crosswalk's JSON) answered for fictional employer number `n`."""
    doc = template.model_dump(mode="json")
    employer = f"{EMPLOYERS[n % len(EMPLOYERS)]} {n:04d}"
    doc.update(id=f"plan-{n:04d}", title=f"{employer} 401(k) Plan - Adoption Agreement",
               elections=[_answer(e, rng) for e in doc["elections"]])
    return doc


def blank_template(template: Document) -> dict:
    doc = template.model_dump(mode="json")
    doc["title"] = template.title or "Adoption Agreement"
    return doc


def scan_pdf(src: Path, dst: Path, dpi: int = 100) -> None:
    """`src` with every page replaced by a picture of itself (no text layer)."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    text = pdfium.PdfDocument(str(src))
    c = Canvas(str(dst), pagesize=(WIDTH, HEIGHT), invariant=1)
    for page in text:
        buffer = io.BytesIO()
        page.render(scale=dpi / 72).to_pil().convert("L").save(buffer, format="PNG")
        buffer.seek(0)
        c.drawImage(ImageReader(buffer), 0, 0, WIDTH, HEIGHT)
        c.showPage()
    c.save()
    text.close()


def make_plans(template: Document, count: int, folder: Path, scanned_share: float = 0.0, seed: int = 0) -> list[Path]:
    """`count` plan PDFs in `folder` (plan-0000.pdf, …); every 1/scanned_share-th one is scanned."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    every = round(1 / scanned_share) if scanned_share > 0 else 0
    paths = []
    for n in range(count):
        path = folder / f"plan-{n:04d}.pdf"
        plan = filled_plan(template, n, rng)
        # what was filled in, beside the folder: a benchmark checks how many answers reach each plan's output
        (folder.parent / f".{path.stem}.answers.json").write_text(json.dumps(plan))
        if every and n % every == every - 1:
            text_copy = folder.parent / f".{path.stem}.text.pdf"
            aa_pdf(plan, text_copy)
            scan_pdf(text_copy, path)
        else:
            aa_pdf(plan, path)
        paths.append(path)
    return paths


def answers_given(plan: dict) -> int:
    """Questions a generated plan answers (a chosen option, or a value)."""
    return sum(bool(e.get("selected_value")) or any(o["is_selected"] for o in e["options"]) for e in plan["elections"])


def _record(e: Election) -> dict:
    value = (e.selected_value if isinstance(e.selected_value, list) else [e.selected_value]) if e.selected_value else []
    return {"kind": e.kind, "question_number": e.question_number, "question_text": e.question_text,
            "section_context": e.section_context,
            "value": {"text": e.selected_value} if e.kind == "text" else {"selected_labels": value},
            "options": [{"label": o.label, "option_text": o.text, "is_selected": o.is_selected,
                         "fill_ins": [{"label": f.label, "value": f.value} for f in o.fill_ins]} for o in e.options]}


def vision_fixtures(scanned: Path, text_copy: Path) -> dict[str, dict]:
    """"sha256:<page image digest>" -> {"records": [...]}: the simulator's reply for each page of `scanned`."""
    from ..extract.pdf import extract_pdf
    from ..extract.vision import render_pages

    doc = extract_pdf(text_copy, role="aa")
    pages = render_pages(scanned, None, list(range(1, (doc.pages or 0) + 1)))
    fixtures = {}
    for page in pages:
        records = [_record(e) for e in doc.elections if e.page == page.page]
        fixtures[f"sha256:{hashlib.sha256(page.image).hexdigest()}"] = {"records": records}
    return fixtures
