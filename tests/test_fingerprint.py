from crosswalk.classify import classify, compatible, topic
from crosswalk.fingerprint import defined_term, fingerprint, normalize_text, without_common_headings
from crosswalk.models import Election, ElectionOption, Provision


def test_numbers_and_cross_references_are_stripped():
    p = Provision(id="p", section_number="4.02", title="4.02 Vesting Schedule",
                  text="Subject to Section 12.1(a)(2), the schedule in AA Section 4.02 applies (page 17).")
    fp = fingerprint(p)
    assert "4.02" not in fp.text and "12.1" not in fp.text and "17" not in fp.text
    assert fp.heading == "Vesting Schedule"


def test_placeholders_become_parameters():
    text, n = normalize_text("Compensation as elected in the Adoption Agreement, or ______ hours.")
    assert "[ELECTION]" in text and "[VALUE]" in text and n == 2
    assert "Adoption Agreement" not in text


def test_code_references_and_meaningful_numbers_are_kept():
    p = Provision(id="p", text="Limited to $350,000 under Code Section 401(a)(17) for a 401(k) plan at age 21.")
    fp = fingerprint(p)
    assert "401" in fp.code_refs
    assert "401(k)" in fp.body
    assert "$350,000" in fp.numbers and "age 21" in fp.numbers


def test_vendor_names_removed():
    assert "Relius" not in normalize_text("Relius Cycle 3 prototype text")[0]


def test_defined_terms_match_across_vendor_styles():
    assert defined_term("Compensation", "'Compensation' means wages") == "compensation"
    assert defined_term("COMPENSATION", "Means W-2 wages") == "compensation"
    assert defined_term("Vesting", "A Participant vests") == ""


def test_election_fingerprint_drops_question_numbers():
    e = Election(id="e", question_number="17.01", question_text="17.01 SERVICE CREDITING METHOD (Plan Sections 1.62 and 1.88)",
                 section_context="Part 3 Question 17", kind="single_select",
                 options=(ElectionOption(label="a", text="a. Elapsed time method"),))
    fp = fingerprint(e)
    assert "17" not in fp.text and "1.62" not in fp.text
    assert "Elapsed time method" in fp.text


def test_classification_and_compatibility():
    vest = fingerprint(Provision(id="v", title="Vesting Schedule", text="The nonforfeitable percentage follows the schedule."))
    loan = fingerprint(Provision(id="l", title="Participant Loans", text="The Administrator may make loans."))
    definition = fingerprint(Provision(id="d", title="Compensation", text="'Compensation' means W-2 wages."))
    assert classify(vest) == "vesting" and classify(loan) == "loans" and classify(definition) == "definition"
    assert topic(definition) == "compensation"
    assert compatible("vesting", "distributions") and not compatible("vesting", "loans")
    assert compatible("other", "loans")


def test_a_heading_most_records_carry_is_dropped_from_heading_and_core():
    def election(i: int, context: str, question: str) -> Election:
        return Election(id=f"e{i}", question_number=str(i), question_text=question, section_context=context,
                        options=(ElectionOption(label="a", text="Yes"),))
    title = "Non-Standardized Defined Contribution"
    items = [election(i, title, f"Question about entry date {i}") for i in range(13)]    # 13 of 60
    items += [election(20 + i, "Vesting", f"Vesting schedule {i}") for i in range(9)]    # 9 of 60
    items += [election(40 + i, f"Topic {i}", f"Question {i}") for i in range(38)]
    fps = without_common_headings([fingerprint(e) for e in items])
    assert fps[0].heading == "" and fps[0].core == "Question about entry date 0"
    assert fps[13].heading == "Vesting" and fps[13].core == "Vesting. Vesting schedule 0"
    assert sum(fp.heading == "" for fp in fps) == 13
    short = [fingerprint(e) for e in items[:3] + items[13:15]]
    assert without_common_headings(short) == short  # in a short document a shared heading is a section


def test_a_provision_is_embedded_sentence_by_sentence_an_election_whole():
    p = fingerprint(Provision(id="p", title="Hardship", text=(
        "A Participant may request a hardship distribution. (a) Plan. The amount shall not exceed the need; "
        "The Administrator may rely on the Participant's written statement, i.e. a form.")))
    assert p.passages == ("A Participant may request a hardship distribution.", "The amount shall not exceed the need;",
                          "The Administrator may rely on the Participant's written statement, i.e. a form.")  # "(a) Plan." is a stub
    long = fingerprint(Provision(id="q", title="", text=" ".join(f"Sentence number {i} of the rule." for i in range(40))))
    assert len(long.passages) == 16
    empty = fingerprint(Provision(id="r", title="Loans", text=""))
    assert empty.passages == (empty.text,)
    e = fingerprint(Election(id="e", question_text="Vesting schedule. Select one.", options=()))
    assert e.passages == (e.text,)
