"""The four kinds of data roasbot loads, their columns, and telling them apart by header.

A file's kind comes from its header row, never its name: marketers rename exports freely
("Nov payouts FINAL (2).csv"), but the columns are what the platforms write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import BigInteger, Float, Integer, Numeric, Table

from storage import models
from storage.ingest.results import quoted


class FieldType(Enum):
    """How a raw cell is parsed and checked; see `storage.ingest.parse`."""

    ID = "id"  # non-empty text, no surrounding spaces, limited length
    TEXT = "text"
    COUNT = "count"  # whole number >= 0; "12.5k", "1,20,000" accepted
    MONEY = "money"  # number >= 0 with 2 decimals; "₹1,299.00", "Rs. 500" accepted
    DECIMAL = "decimal"  # number >= 0
    DATE = "date"
    GENDER = "gender"
    PLATFORM = "platform"
    BASIS = "basis"
    LABEL = "label"  # a category/brand-like name: spaces tidied


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    required: bool  # the column must be in the header
    nullable: bool = False  # an empty cell is allowed (only for optional columns and a few others)
    max_length: int | None = None


@dataclass(frozen=True)
class Kind:
    """A dataset: its columns, its table, and how a row's identity is decided."""

    name: str
    table: Table
    fields: tuple[Field, ...]
    id_column: str  # the natural id; for tracking/payouts it may be absent or empty
    hash_when_no_id: bool  # rows without an id are keyed by a hash of their values
    rank: int  # load order inside a batch: referenced data first

    @property
    def required(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.required)

    @property
    def known(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)


_F = FieldType
INFLUENCERS = Kind(
    name="influencers",
    table=models.influencers,
    fields=(
        Field("influencer_id", _F.ID, True, max_length=64),
        Field("name", _F.TEXT, True, max_length=200),
        Field("category", _F.LABEL, True, max_length=100),
        Field("gender", _F.GENDER, True),
        Field("follower_count", _F.COUNT, True),
        Field("platform", _F.PLATFORM, True),
    ),
    id_column="influencer_id",
    hash_when_no_id=False,
    rank=0,
)
POSTS = Kind(
    name="posts",
    table=models.posts,
    fields=(
        Field("post_id", _F.ID, True, max_length=128),
        Field("influencer_id", _F.ID, True, max_length=64),
        Field("platform", _F.PLATFORM, True),
        Field("date", _F.DATE, True),
        Field("reach", _F.COUNT, True),
        Field("likes", _F.COUNT, True),
        Field("comments", _F.COUNT, True),
        Field("url", _F.TEXT, False, nullable=True),
        Field("caption", _F.TEXT, False, nullable=True),
    ),
    id_column="post_id",
    hash_when_no_id=False,
    rank=1,
)
TRACKING = Kind(
    name="tracking_data",
    table=models.tracking,
    fields=(
        Field("source", _F.LABEL, True, max_length=100),
        # Empty means the sale is not influencer-attributed (organic, direct, ads...).
        Field("influencer_id", _F.ID, True, nullable=True, max_length=64),
        Field("brand", _F.LABEL, True, max_length=100),
        Field("product", _F.LABEL, True, max_length=200),
        Field("date", _F.DATE, True),
        Field("orders", _F.COUNT, True),
        Field("revenue", _F.MONEY, True),
        Field("tracking_id", _F.ID, False, nullable=True, max_length=128),
        Field("campaign", _F.LABEL, False, nullable=True, max_length=200),
        Field("user_id", _F.ID, False, nullable=True, max_length=128),
    ),
    id_column="tracking_id",
    hash_when_no_id=True,
    rank=2,
)
PAYOUTS = Kind(
    name="payouts",
    table=models.payouts,
    fields=(
        Field("influencer_id", _F.ID, True, max_length=64),
        Field("basis", _F.BASIS, True, max_length=50),
        Field("total_payout", _F.MONEY, True),
        Field("rate", _F.DECIMAL, False, nullable=True),
        Field("orders", _F.COUNT, False, nullable=True),
        Field("payout_date", _F.DATE, False, nullable=True),
        Field("campaign", _F.LABEL, False, nullable=True, max_length=200),
        Field("brand", _F.LABEL, False, nullable=True, max_length=100),
        Field("payout_id", _F.ID, False, nullable=True, max_length=128),
    ),
    id_column="payout_id",
    hash_when_no_id=True,
    rank=3,
)

KINDS: dict[str, Kind] = {k.name: k for k in (INFLUENCERS, POSTS, TRACKING, PAYOUTS)}
# "tracking" is what people call it in conversation; accept it for --kind too.
KIND_ALIASES = {"tracking": "tracking_data", "influencer": "influencers", "payout": "payouts"}


class HeaderError(ValueError):
    """The header row fits no kind of data (or names a column twice)."""


def normalise_header(name: object) -> str:
    """'Follower Count ' -> 'follower_count': headers match case- and spacing-insensitively."""
    text = str(name if name is not None else "").strip().lstrip("\ufeff").lower()
    return re.sub(r"[\s\-]+", "_", text)


def value_limit(kind: Kind, f: Field) -> float:
    """The largest number `f`'s column holds exactly, on PostgreSQL and SQLite alike.

    Counts are parsed as float64, exact up to 2^53; a rate (a float column) is money per order
    or post, bounded like money so that rate x orders stays finite.
    """
    column = kind.table.c[f.name].type
    if isinstance(column, Float):
        column = models.Money
    if isinstance(column, Numeric):
        return 10.0 ** (column.precision - column.scale) - 10.0**-column.scale
    if isinstance(column, BigInteger):
        return float(2**53 - 1)
    if isinstance(column, Integer):
        return float(2**31 - 1)
    raise TypeError(f"{kind.name}.{f.name} is not a number column")


def fits_a_kind(header: list[str], forced: str | None = None) -> bool:
    """Whether a (normalised) row can be the header: it holds the required columns of some kind,
    or of the kind the user forced."""
    columns = set(header)
    if forced is not None:
        return kind_by_name(forced).required <= columns
    return any(k.required <= columns for k in KINDS.values())


def kind_by_name(name: str) -> Kind:
    """The kind a user named (`--kind`), with a clear error for a typo."""
    key = KIND_ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in KINDS:
        raise HeaderError(f"unknown kind {quoted(name)}: use one of {', '.join(KINDS)}")
    return KINDS[key]


def detect_kind(header: list[str]) -> Kind:
    """The kind whose required columns the (normalised) header holds.

    When several fit, the one that recognises the most columns wins; when none fits, the error
    names the closest kind and exactly what it lacks, because that is what the user must fix.
    """
    columns = set(header)
    fitting = [k for k in KINDS.values() if k.required <= columns]
    if fitting:
        return max(fitting, key=lambda k: (len(k.known & columns), -k.rank))
    closest = min(
        KINDS.values(), key=lambda k: (len(k.required - columns), -len(k.known & columns))
    )
    missing = ", ".join(sorted(closest.required - columns))
    named = [h for h in header if h]
    shown = ", ".join(h if len(h) <= 40 else quoted(h) for h in named[:30]) or "none"
    if len(named) > 30:
        shown += f" and {len(named) - 30} more"
    raise HeaderError(
        f"the header fits no kind of data; closest is {closest.name}, which also needs: "
        f"{missing} (columns found: {shown})"
    )


def check_header(header: list[str], kind: Kind) -> list[str]:
    """Checks `header` can be read as `kind`; returns the columns that will be ignored."""
    seen: set[str] = set()
    for column in header:
        if column and column in seen:
            raise HeaderError(f"the column {quoted(column)} appears twice in the header")
        seen.add(column)
    missing = kind.required - seen
    if missing:
        raise HeaderError(f"{kind.name} needs the columns: {', '.join(sorted(missing))}")
    return [h for h in header if h and h not in kind.known]
