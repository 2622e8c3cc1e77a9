"""The rule-14 checker: numbers in quotes, read the way publishers print them."""

import pytest

from ldn_graph.graph.evidence_checks import quotes


@pytest.mark.parametrize(
    ("value", "quote"),
    [
        (-0.34, "a between-group difference of −0·34 (−0·95 to 0·27; p=0·27)"),
        (0.04, "p = .04"),
        (15297, "15 297 patients (0.3% of population)"),
        (1779, "1,779 users"),
        (88, "Eighty-eight percent of those treated"),
        (40, "Forty subjects were enrolled"),
        (5, "Five dropouts and two major adverse events occurred."),
    ],
)
def test_a_number_printed_by_a_publisher_is_quoted(value, quote):
    assert quotes(value, [quote])


@pytest.mark.parametrize(
    ("value", "quote"),
    [
        (0.43, "a between-group difference of −0·34"),
        (5, "LDN may improve fatigue"),  # 'may' is not a month here, nor five
        (12, "a significant decline in pain"),  # nor is 'dec'
        (99, "ninety patients"),
    ],
)
def test_a_number_the_quote_does_not_state_is_not_quoted(value, quote):
    assert not quotes(value, [quote])
