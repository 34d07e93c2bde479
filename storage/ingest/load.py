"""Writing parsed rows to the store: a staging table, then one set-based upsert.

Rows go into a temporary staging table (COPY on PostgreSQL, batched executemany on SQLite), and a
single `INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE <something changed>` moves them
into the real table. The same SQL serves both stores, the counts of new / updated / unchanged rows
come out exact, and a re-upload of the same rows writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, Table, TableClause, column, select, text, union
from sqlalchemy import table as table_clause
from sqlalchemy.exc import DBAPIError

from storage.ingest.readers import LINE

_DUPLICATE_LINES_SHOWN = 50


@dataclass
class LoadCounts:
    staged: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # rows whose key a later row of the same file repeats (the later wins)
    duplicate_lines: list[int] = field(default_factory=list)


class Stager:
    """Collects one table's rows of one file inside the caller's transaction, then upserts them.

    Identifiers in the SQL below come from the schema (`storage.models`), never from a file or a
    user; every value travels as COPY data or a bound parameter.
    """

    def __init__(self, conn: Connection, table: Table) -> None:
        self.conn = conn
        self.table = table
        self.columns = [c.name for c in table.columns]
        self.key = next(c.name for c in table.primary_key.columns)
        self.date_columns = [c.name for c in table.columns if c.type.python_type is dt.date]
        self.q = conn.dialect.identifier_preparer.quote
        self.target = self.q(table.name)
        self.staging = self.q(f"stage_{table.name}")
        # The same staging table for SQLAlchemy expressions of other modules (no quoting by hand),
        # typed like the target so that values read back from it are dates, not text, on SQLite.
        self.staging_table: TableClause = table_clause(
            f"stage_{table.name}", *(column(c.name, c.type) for c in table.columns)
        )
        self.postgres = conn.dialect.name == "postgresql"
        self.staged = 0
        self._create()

    def _create(self) -> None:
        self.conn.execute(text(f"DROP TABLE IF EXISTS {self.staging}"))
        if self.postgres:
            self.conn.execute(
                text(
                    f"CREATE TEMP TABLE {self.staging} (LIKE {self.target}, {LINE} integer) "
                    "ON COMMIT DROP"
                )
            )
        else:
            cols = ", ".join(self.q(c) for c in self.columns)
            self.conn.execute(
                text(
                    f"CREATE TEMP TABLE {self.staging} AS "
                    f"SELECT {cols}, 0 AS {LINE} FROM {self.target} WHERE 0"
                )
            )

    def add(self, rows: pd.DataFrame) -> None:
        """Stage a chunk of parsed rows (columns: the table's, plus the line number)."""
        if rows.empty:
            return
        frame = rows[[*self.columns, LINE]]
        cols = ", ".join(self.q(c) for c in [*self.columns, LINE])
        if self.postgres:
            # The csv module writes what DataFrame.to_csv would (None -> empty -> NULL) in about
            # two thirds of the time. CRLF line ends make it quote any cell holding a bare CR,
            # which COPY would otherwise take for the end of a row.
            buffer = io.StringIO()
            columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
            csv.writer(buffer, lineterminator="\r\n").writerows(zip(*columns, strict=True))
            buffer.seek(0)
            sql = f"COPY {self.staging} ({cols}) FROM STDIN WITH (FORMAT csv)"
            self._raw(lambda cursor: cursor.copy_expert(sql, buffer), sql)
        else:
            frame = frame.copy()
            for name in self.date_columns:
                frame[name] = frame[name].map(lambda d: d.isoformat() if d is not None else None)
            params = ", ".join("?" for _ in frame.columns)
            sql = f"INSERT INTO {self.staging} ({cols}) VALUES ({params})"
            rows = (
                frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
            )
            self._raw(lambda cursor: cursor.executemany(sql, rows), sql)
        self.staged += len(frame)

    def _raw(self, work, sql: str) -> None:
        """Run `work` on the driver's cursor (COPY and executemany are not SQLAlchemy calls),
        reporting driver errors as SQLAlchemy's, like every other statement of the load."""
        cursor = self.conn.connection.driver_connection.cursor()
        try:
            work(cursor)
        except self.conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, None, exc, self.conn.dialect.loaded_dbapi.Error) from exc
        finally:
            cursor.close()

    def touched(self, column: str) -> set:
        """Before `finish`: the values of `column` in the staged rows and in the rows they will
        replace, i.e. every value whose derived figures this load may change."""
        staged = self.staging_table.c[column]
        replaced = select(self.table.c[column]).join(
            self.staging_table, self.staging_table.c[self.key] == self.table.c[self.key]
        )
        return set(self.conn.execute(union(select(staged), replaced)).scalars())

    def finish(self) -> LoadCounts:
        """Upsert the staged rows into the table and say exactly what that changed."""
        counts = LoadCounts(staged=self.staged)
        if self.staged:
            key, stg, target = self.q(self.key), self.staging, self.target
            distinct = self._scalar(f"SELECT count(DISTINCT {key}) FROM {stg}")
            counts.duplicates = self.staged - distinct
            if counts.duplicates:
                counts.duplicate_lines = self._duplicate_lines()
            upsert = self._upsert_sql(counts.duplicates > 0)
            if self.postgres:
                # The upsert says itself which rows it inserted (xmax = 0) and which it updated,
                # sparing a join of the staged keys with the table (7 s for 1 M rows, and a plan
                # that turns quadratic when the table's statistics are stale).
                inserted, updated = self.conn.execute(
                    text(
                        f"WITH done AS ({upsert} RETURNING (xmax = 0) AS new) "
                        "SELECT count(*) FILTER (WHERE new), count(*) FILTER (WHERE NOT new) "
                        "FROM done"
                    )
                ).one()
                counts.inserted, counts.updated = int(inserted), int(updated)
                counts.unchanged = distinct - counts.inserted - counts.updated
            else:
                existing = self._scalar(
                    f"SELECT count(*) FROM {target} t WHERE t.{key} IN (SELECT {key} FROM {stg})"
                )
                changed = self.conn.execute(text(upsert)).rowcount
                counts.inserted = distinct - existing
                counts.updated = changed - counts.inserted
                counts.unchanged = existing - counts.updated
        self.conn.execute(text(f"DROP TABLE IF EXISTS {self.staging}"))
        return counts

    def _scalar(self, sql: str) -> int:
        return int(self.conn.execute(text(sql)).scalar_one())

    def _duplicate_lines(self) -> list[int]:
        key, stg = self.q(self.key), self.staging
        rows = self.conn.execute(
            text(
                f"SELECT s.{LINE} FROM {stg} s WHERE s.{LINE} < "
                f"(SELECT max(d.{LINE}) FROM {stg} d WHERE d.{key} = s.{key}) "
                f"ORDER BY s.{LINE} LIMIT {_DUPLICATE_LINES_SHOWN}"
            )
        )
        return [int(r[0]) for r in rows]

    def _upsert_sql(self, dedupe: bool) -> str:
        cols = ", ".join(self.q(c) for c in self.columns)
        source = self.staging
        if dedupe:  # the last row of the file with a given key wins, as in a spreadsheet
            key = self.q(self.key)
            picked = ", ".join(f"s.{self.q(c)}" for c in self.columns)
            source = (
                f"(SELECT {picked} FROM {self.staging} s JOIN "
                f"(SELECT {key} AS k, max({LINE}) AS l FROM {self.staging} GROUP BY {key}) m "
                f"ON m.k = s.{key} AND m.l = s.{LINE}) AS latest"
            )
        others = [self.q(c) for c in self.columns if c != self.key]
        assign = ", ".join(f"{c} = excluded.{c}" for c in others)
        distinct = "IS DISTINCT FROM" if self.postgres else "IS NOT"
        differs = " OR ".join(f"{self.target}.{c} {distinct} excluded.{c}" for c in others)
        return (
            f"INSERT INTO {self.target} ({cols}) SELECT {cols} FROM {source} WHERE true "
            f"ON CONFLICT ({self.q(self.key)}) DO UPDATE SET {assign} WHERE {differs}"
        )
