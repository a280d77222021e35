from qa.cite import Claim, Evidence, citation_problems, render

TEXT = "Alpha beta gamma. Delta epsilon zeta. Eta theta."


def ev(start: int, end: int, article: str = "a") -> Evidence:
    return Evidence(article, "T", f"{article}:0", start, end, TEXT[start:end], 0.5)


def test_render_numbers_evidence_in_order_of_first_use():
    text, cites = render([
        Claim("Alpha beta gamma.", [ev(0, 17)]),
        Claim("Delta epsilon zeta.", [ev(18, 37), ev(0, 17)]),
    ])
    assert text == "Alpha beta gamma [1]. Delta epsilon zeta [2][1]."
    assert [(c.n, c.start) for c in cites] == [(1, 0), (2, 18)]


def test_render_ignores_markers_typed_into_the_claim_text():
    text, cites = render([Claim("Eta theta [7].", [ev(38, 48)])])
    assert text == "Eta theta [1]." and len(cites) == 1


def test_valid_citations_have_no_problems():
    text, cites = render([Claim("Alpha.", [ev(0, 17)])])
    assert citation_problems(text, [c.to_json() for c in cites], {"a": TEXT}.get) == []


def test_each_broken_rule_is_reported():
    good = render([Claim("Alpha.", [ev(0, 17)])])[1][0].to_json()
    moved = {**good, "start": 1}
    unknown = {**good, "n": 2, "article_id": "zz"}
    problems = citation_problems("Alpha [1] and [3].", [moved, unknown], {"a": TEXT}.get)
    assert "marker [3] has no citation" in problems
    assert "citation 2 is not referenced by a marker" in problems
    assert "citation 1 quote is not at its offsets" in problems
    assert "citation 2 names unknown article zz" in problems
