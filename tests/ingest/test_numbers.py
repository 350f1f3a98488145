"""A list's bad lines keep their English problem; a page reads it back as a wording."""

from __future__ import annotations

from steward.ingest import numbers


def test_a_bad_lines_problem_reads_back_as_its_wording_and_values() -> None:
    bad = numbers.problem("bytes are not valid gb18030 text")
    assert (bad.template, bad.params) == (numbers.NOT_TEXT, {"encoding": "gb18030"})
    assert str(bad) == "bytes are not valid gb18030 text"
    number = numbers.problem("not an 11-digit mobile number")
    assert (number.template, number.params) == (numbers.NOT_A_NUMBER, {})


def test_a_problem_of_no_known_wording_is_shown_as_written() -> None:
    odd = numbers.problem("50% of something else")
    assert (odd.template, odd.params, str(odd)) == ("50% of something else", {}, odd.template)
