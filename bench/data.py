"""The benchmark's data, generated where it is used, in SQL (generate_series).

Ten million rows take seconds this way, against minutes through Python and
CSV. Nothing is random: every value is a fixed arithmetic function of the row
number (a multiplicative hash), so the same sizes give the same rows on every
run and on both warehouses.

Tables (in the schema the caller names):
  item, item_events  the daily job's input (scenarios 1 and 2): `days` days from
                     START_DATE, `events_per_day` events each, every day present
  gap_events         scenario 3: `rows` rows spread over `days` days, none on
                     the days `planted_offsets(days)` names
  recon_a, recon_b   scenarios 4 and 5: `rows` keys, 0.1% of them different
                     (see ReconExpectation)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

START_DATE = date(2023, 1, 1)
ITEMS = 1000

# Knuth's multiplicative hash: spreads consecutive row numbers over 0 .. 2^32-1.
# `salt` gives each column its own sequence. Fits a bigint for n below 3.4e9.
HASH_FACTOR = 2654435761
HASH_MODULUS = 4294967296


def mix(expression: str, salt: int) -> str:
    return f"((({expression}) + {salt}) * {HASH_FACTOR}) % {HASH_MODULUS}"


def int_div(dialect: str, left: str, right: str) -> str:
    """Integer division: PostgreSQL's `/` on integers, DuckDB's `//`."""
    return f"(({left}) {'//' if dialect == 'duckdb' else '/'} ({right}))"


def planted_offsets(days: int) -> list[int]:
    """Five distinct days (offsets from the start) to leave out: two of them
    adjacent, none the first or last day, so gap finders meet a single day, a
    two-day range, and the ends of the range complete."""
    if days < 7:
        raise ValueError(f"Five missing days need a range of at least 7 days (got {days}).")
    third = days // 3
    return sorted({1, third, third + 1, 2 * days // 3, days - 2})


def day_of(offset: int) -> date:
    return START_DATE + timedelta(days=offset)


def date_literal(value: date) -> str:
    return f"cast('{value.isoformat()}' as date)"


# -- the daily job's input (scenarios 1 and 2) -------------------------------------


def pipeline_statements(dialect: str, schema: str, days: int, events_per_day: int) -> list[str]:
    """item (a fixed 1,000 items, 60% ACTIVE) and item_events (every day present)."""
    events = days * events_per_day
    statements = [
        f"""
        create table {schema}.item as
        select
            cast(s.n as integer) as id,
            'item ' || cast(s.n as varchar) as name,
            case {mix('s.n', 11)} % 5 when 3 then 'INACTIVE' when 4 then 'DISCONTINUED' else 'ACTIVE' end
                as status
        from generate_series(1, {ITEMS}) as s(n)
        """,
        f"""
        create table {schema}.item_events as
        select
            cast(s.n as bigint) as event_id,
            cast(1 + {mix('s.n', 1)} % {ITEMS} as integer) as item_id,
            {date_literal(START_DATE)} + cast({int_div(dialect, 's.n - 1', str(events_per_day))} as integer)
                as event_date,
            cast((100 + {mix('s.n', 2)} % 49900) / 100.0 as numeric(12, 2)) as amount,
            cast(1 + {mix('s.n', 3)} % 5 as integer) as quantity
        from generate_series(1, {events}) as s(n)
        """,
    ]
    if dialect == "postgres":
        # A daily batch reads one day: an index lets it, as a production table's
        # partitioning or index would. DuckDB prunes by the row groups' min/max.
        statements.append(f"create index on {schema}.item_events (event_date)")
    return statements


# -- scenario 3 --------------------------------------------------------------------


def gap_statements(dialect: str, schema: str, rows: int, days: int) -> list[str]:
    """`rows` row numbers spread evenly over `days` days; the planted days left out."""
    missing = ", ".join(str(offset) for offset in planted_offsets(days))
    # bigint: the product passes 2^31 from about 6 million rows over a year
    day = int_div(dialect, f"(cast(s.n as bigint) - 1) * {days}", str(rows))
    return [
        f"""
        create table {schema}.gap_events as
        select
            cast(s.n as bigint) as event_id,
            {date_literal(START_DATE)} + cast({day} as integer) as event_date,
            cast(1 + {mix('s.n', 5)} % 100000 as integer) as user_id,
            cast((100 + {mix('s.n', 6)} % 49900) / 100.0 as numeric(12, 2)) as amount
        from generate_series(1, {rows}) as s(n)
        where {day} not in ({missing})
        """
    ]


# -- scenarios 4 and 5 -------------------------------------------------------------

# Keys whose id % 1000 == DIFFERENCE_SLOT differ (0.1%), by kind (id / 1000) % 5:
ONLY_IN_A, ONLY_IN_B, AMOUNT_CHANGED, EMAIL_CHANGED, COUNTRY_NULLED = range(5)
DIFFERENCE_SLOT = 7


@dataclass(frozen=True)
class ReconExpectation:
    """What a correct comparison of recon_a with recon_b finds."""

    only_in_a: int
    only_in_b: int
    differing_values: int  # (key, column) pairs; each changed row differs in one column
    keys_in_either: int  # the floor's count: the rows of the full outer join

    def as_dict(self) -> dict:
        return {"only_in_a": self.only_in_a, "only_in_b": self.only_in_b, "differing_values": self.differing_values}


def recon_expectation(rows: int) -> ReconExpectation:
    kinds = [0] * 5
    for key in range(DIFFERENCE_SLOT, rows + 1, 1000):
        kinds[(key // 1000) % 5] += 1
    return ReconExpectation(
        only_in_a=kinds[ONLY_IN_A],
        only_in_b=kinds[ONLY_IN_B],
        differing_values=kinds[AMOUNT_CHANGED] + kinds[EMAIL_CHANGED] + kinds[COUNTRY_NULLED],
        keys_in_either=rows,
    )


def recon_statements(dialect: str, schema: str, rows: int) -> list[str]:
    kind = f"({int_div(dialect, 's.n', '1000')} % 5)"
    differs = f"(s.n % 1000 = {DIFFERENCE_SLOT})"

    def side(name: str, absent_kind: int, changed: bool) -> str:
        amount = f"cast((100 + {mix('s.n', 7)} % 99900) / 100.0 as numeric(12, 2))"
        email = "'user' || cast(s.n as varchar) || '@example.com'"
        country = f"case {mix('s.n', 8)} % 4 when 0 then 'DE' when 1 then 'FR' when 2 then 'US' else 'GB' end"
        if changed:
            amount = f"case when {differs} and {kind} = {AMOUNT_CHANGED} then {amount} + 1 else {amount} end"
            email = (f"case when {differs} and {kind} = {EMAIL_CHANGED} "
                     f"then 'user' || cast(s.n as varchar) || '@old.example' else {email} end")
            country = f"case when {differs} and {kind} = {COUNTRY_NULLED} then null else {country} end"
        return f"""
        create table {schema}.{name} as
        select
            cast(s.n as bigint) as id,
            cast({email} as varchar(200)) as email,
            cast({country} as varchar(2)) as country,
            cast({amount} as numeric(12, 2)) as amount,
            cast(1 + {mix('s.n', 9)} % 20 as integer) as quantity,
            cast('2022-01-01 00:00:00' as timestamp) + ({mix('s.n', 10)} % 31536000) * interval '1 second'
                as created_at
        from generate_series(1, {rows}) as s(n)
        where not ({differs} and {kind} = {absent_kind})
        """

    return [side("recon_a", ONLY_IN_B, changed=False), side("recon_b", ONLY_IN_A, changed=True)]
