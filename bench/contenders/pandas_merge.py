"""The playbook's source comparison: read both tables into pandas, merge them on
the key with an indicator, compare the columns of the rows found on both sides.

    python -m bench.contenders.pandas_merge --table-a S.A --table-b S.B --key id

Prints what it found as JSON: keys only in A, keys only in B, and the number of
(key, column) pairs whose values differ (null equals null).
"""

from __future__ import annotations

import argparse
import json
import warnings

import pandas as pd

from bench.connect import connect


def read_table(connection, table: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        # pandas asks for SQLAlchemy; a plain DB-API connection is what the playbook uses.
        warnings.simplefilter("ignore", UserWarning)
        return pd.read_sql(f"select * from {table}", connection)


def compare(a: pd.DataFrame, b: pd.DataFrame, key: str) -> dict:
    merged = a.merge(b, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    differing = 0
    for column in (name for name in a.columns if name != key):
        left, right = both[f"{column}_a"], both[f"{column}_b"]
        same = (left == right) | (left.isna() & right.isna())
        differing += int((~same).sum())
    return {
        "only_in_a": int((merged["_merge"] == "left_only").sum()),
        "only_in_b": int((merged["_merge"] == "right_only").sum()),
        "differing_values": differing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table-a", required=True)
    parser.add_argument("--table-b", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    connection = connect()
    try:
        a = read_table(connection, args.table_a)
        b = read_table(connection, args.table_b)
    finally:
        connection.close()
    print(json.dumps(compare(a, b, args.key)))


if __name__ == "__main__":
    main()
