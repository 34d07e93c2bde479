from insights.formatting import indian_grouping, money, percent, ratio


def test_indian_grouping():
    assert [indian_grouping(n) for n in (0, 999, 1000, 123456, 1234567, 123456789, -45000)] == [
        "0", "999", "1,000", "1,23,456", "12,34,567", "12,34,56,789", "-45,000",
    ]  # fmt: skip


def test_money_full_and_compact():
    assert money(1234567.4) == "₹12,34,567"
    assert money(1234567.4, "USD") == "$1,234,567"
    assert money(1234567, compact=True) == "₹12.3L"
    assert money(32_000_000, compact=True) == "₹3.2Cr"
    assert money(45_600, compact=True) == "₹45.6k"
    assert money(500, compact=True) == "₹500"
    assert money(2_500_000, "USD", compact=True) == "$2.5M"
    assert money(-40_000, compact=True) == "-₹40k"
    assert money(None) == "n/a"


def test_ratio_and_percent():
    assert (ratio(3.8214), ratio(None), percent(4.5199), percent(None)) == (
        "3.82x", "n/a", "4.5%", "n/a",
    )  # fmt: skip
