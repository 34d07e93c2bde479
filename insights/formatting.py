"""Numbers as marketers read them: ₹ in lakh and crore, ROAS as 3.8x, n/a for undefined.

Shared by the text answers, the charts, Slack's blocks and the digest's recommendations, so a
figure reads the same everywhere. Pure functions, so `insights` can use them too.
"""

from __future__ import annotations

SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}


def symbol(currency: str) -> str:
    return SYMBOLS.get(currency.upper(), currency.upper() + " " if currency else "")


def indian_grouping(whole: int) -> str:
    """1234567 -> '12,34,567': the last three digits, then groups of two."""
    digits = str(abs(whole))
    if len(digits) <= 3:
        grouped = digits
    else:
        head, tail = digits[:-3], digits[-3:]
        pairs = []
        while len(head) > 2:
            pairs.insert(0, head[-2:])
            head = head[:-2]
        grouped = ",".join([head, *pairs, tail]) if head else ",".join([*pairs, tail])
    return ("-" if whole < 0 else "") + grouped


def money(value: float | None, currency: str = "INR", compact: bool = False) -> str:
    """₹12,34,568 (or ₹12.3L compact); $1,234,568 ($1.2M compact) for other currencies."""
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    amount = abs(value)
    sym = symbol(currency)
    if compact:
        units = (
            [(1e7, "Cr"), (1e5, "L"), (1e3, "k")]
            if currency.upper() == "INR"
            else [(1e9, "B"), (1e6, "M"), (1e3, "k")]
        )
        for size, suffix in units:
            if amount >= size:
                scaled = amount / size
                text = f"{scaled:.1f}".rstrip("0").rstrip(".") if scaled < 100 else f"{scaled:.0f}"
                return f"{sign}{sym}{text}{suffix}"
        return f"{sign}{sym}{amount:.0f}"
    whole = round(amount)
    grouped = indian_grouping(whole) if currency.upper() == "INR" else f"{whole:,}"
    return f"{sign}{sym}{grouped}"


def ratio(value: float | None) -> str:
    """ROAS and iROAS: '3.82x'; n/a when there is no cost to divide by."""
    return "n/a" if value is None else f"{value:.2f}x"


def percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}%"


def count(value: int | float | None) -> str:
    return "n/a" if value is None else f"{round(value):,}"
