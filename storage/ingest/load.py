"""Writing parsed rows to the store: a staging table, then one set-based upsert.

Rows go into a temporary staging table (COPY on PostgreSQL, batched executemany on SQLite), and a
single `INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE <something changed>` moves them into
the real table. The same SQL serves both stores, the counts of new / updated / unchanged rows come
out exact, and a re-upload of the same rows writes nothing.

A bulk load (at least `BULK_MIN_ROWS` rows, more than the table holds: a first load) goes into the
table with its primary key only (`storage.bulk`): its secondary indexes, and on PostgreSQL its
foreign keys, are put back afterwards in the file's transaction, 2.4 s of INSERT and 3 s of
rebuilding against 11 s of upsert at 1.08 M rows. (Every row's influencer was already checked
against the influencers read in this transaction; the re-added foreign key is the store's own
guarantee.) Readers wait for the commit instead of seeing the table half loaded, which is the
price of a bulk load and why a load no bigger than the table never takes it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, Table, TableClause, column, select, text, union
from sqlalchemy import table as table_clause
from sqlalchemy.exc import DBAPIError

from storage.bulk import DeferredIndexes, analyze, more_work_memory
from storage.ingest.readers import LINE

_DUPLICATE_LINES_SHOWN = 50
BULK_MIN_ROWS = 20_000
_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), dt.date: pa.date32()}


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
        self.q = conn.dialect.identifier_preparer.quote
        self.target = self.q(table.name)
        self.staging = self.q(f"stage_{table.name}")
        # The same staging table for SQLAlchemy expressions of other modules (no quoting by hand),
        # typed like the target so that values read back from it are dates, not text, on SQLite.
        self.staging_table: TableClause = table_clause(
            f"stage_{table.name}", *(column(c.name, c.type) for c in table.columns)
        )
        self.postgres = conn.dialect.name == "postgresql"
        self.arrow_schema = pa.schema(
            [(c.name, _ARROW_TYPES[c.type.python_type]) for c in table.columns]
            + [(LINE, pa.int64())]
        )
        self.staged = 0
        # A bulk load's dropped indexes and keys, put back by `put_back_indexes` once the
        # derived tables have read the table: their rebuilds scan it whole, and SQLite would
        # read it through an index instead (3.4 s against 1.8 s for tracking_totals at 1 M).
        self.deferred: DeferredIndexes | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stage")
        self._pending: Future | None = None
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
        """Stage a chunk of parsed rows (columns: the table's, plus the line number).

        The chunk is written by a thread of the stager's own while the caller reads and parses
        the next one: COPY waits on the server and libpq and pyarrow release the GIL, so on two
        cores the writes overlap the parse. A first load of 1.08 M rows took 17.5 s against
        21.2 s writing each chunk before parsing the next on PostgreSQL, 22.7 s against 23.6 s
        on SQLite, whose executemany holds the GIL more. One chunk is in flight at a time, so
        rows keep their order and memory holds two chunks at most.
        """
        if rows.empty:
            return
        batch = pa.Table.from_pandas(
            rows[[*self.columns, LINE]], schema=self.arrow_schema, preserve_index=False
        )
        self.settle()
        self._pending = self._writer.submit(self._write, batch)
        self.staged += len(rows)

    @contextmanager
    def adding(self) -> Iterator[None]:
        """Around the calls of `add`: on the way out every chunk is written, and a write that
        failed raises here. When something else is raising already, the write in flight is
        only waited for, so that nothing else uses the connection meanwhile."""
        try:
            yield
            self.settle()
        finally:
            self._writer.shutdown(wait=True)

    def settle(self) -> None:
        """Wait for the chunk being written; raise its error, if it failed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _write(self, batch: pa.Table) -> None:
        cols = ", ".join(self.q(c) for c in [*self.columns, LINE])
        if self.postgres:
            # pyarrow writes the COPY data typed by the table's columns in a tenth of the csv
            # module's time (0.55 s against 6.0 s for 1.08 M rows). It quotes every text
            # value, so a cell holding a bare CR or LF stays inside its row, and writes NULL as
            # an empty unquoted field, which COPY reads as NULL.
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
            buffer.seek(0)
            sql = f"COPY {self.staging} ({cols}) FROM STDIN WITH (FORMAT csv)"
            self._raw(lambda cursor: cursor.copy_expert(sql, buffer), sql)
        else:
            # Python values column by column from Arrow (None for a NULL, dates as the ISO text
            # SQLite stores): 1.08 M rows staged in 4.6 s, against 6.9 s through pandas'
            # itertuples of an object frame; 3.4 s of it is SQLite's own executemany.
            columns = [
                (c.cast(pa.string()) if pa.types.is_date32(c.type) else c).to_pylist()
                for c in batch.columns
            ]
            params = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {self.staging} ({cols}) VALUES ({params})"
            self._raw(lambda cursor: cursor.executemany(sql, zip(*columns, strict=True)), sql)

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
        self.settle()
        staged = self.staging_table.c[column]
        replaced = select(self.table.c[column]).join(
            self.staging_table, self.staging_table.c[self.key] == self.table.c[self.key]
        )
        return set(self.conn.execute(union(select(staged), replaced)).scalars())

    def finish(self) -> LoadCounts:
        """Upsert the staged rows into the table and say exactly what that changed."""
        self.settle()
        counts = LoadCounts(staged=self.staged)
        if self.staged:
            key, stg, target = self.q(self.key), self.staging, self.target
            distinct = self._scalar(f"SELECT count(DISTINCT {key}) FROM {stg}")
            counts.duplicates = self.staged - distinct
            if counts.duplicates:
                counts.duplicate_lines = self._duplicate_lines()
            dedupe = counts.duplicates > 0
            upsert = self._upsert_sql(dedupe)
            deferred = self._defer_indexes(distinct)
            if deferred is not None and deferred.empty:
                # Nothing to conflict with: a plain INSERT, half the upsert's time at 1 M rows.
                self.conn.execute(text(self._insert_sql(dedupe)))
                counts.inserted = distinct
            elif self.postgres:
                if not dedupe:
                    self._drop_unchanged()
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
            if deferred is not None:
                analyze(self.conn, self.table.name)
            self.deferred = deferred
        self.conn.execute(text(f"DROP TABLE IF EXISTS {self.staging}"))
        return counts

    def put_back_indexes(self) -> None:
        """After `finish` and the derived tables: a bulk load's indexes and keys, as they were."""
        if self.deferred is not None:
            self.deferred.put_back(self.conn)
            self.deferred = None

    def _defer_indexes(self, rows: int) -> DeferredIndexes | None:
        """For a bulk load, drop the secondary indexes and foreign keys; what puts them back."""
        if rows < BULK_MIN_ROWS:
            return None
        held = self.conn.execute(
            text(f"SELECT count(*) FROM (SELECT 1 FROM {self.target} LIMIT :n) t"), {"n": rows}
        ).scalar_one()
        if held >= rows:
            return None
        deferred = DeferredIndexes.read(self.conn, self.table.name, empty=held == 0)
        deferred.apply(self.conn)
        return deferred

    def _drop_unchanged(self) -> None:
        """Takes out of staging the rows the table already holds exactly so, with one hash
        join, instead of the upsert finding each through the primary key to compare it: the
        statement took 2.6-3.1 s against the upsert's 5.0 s for a re-export of 1.08 M unchanged
        rows, the whole re-load 9.4 s against 10.3 s (hash memory of 128 MB, the server's; at
        the default 4 MB it spills in 64 batches). Only for a file without repeated keys, where
        every staged row is its key's last."""
        others, key = self._others(), self.q(self.key)
        more_work_memory(self.conn)
        self.conn.execute(
            text(
                f"DELETE FROM {self.staging} s USING {self.target} t WHERE t.{key} = s.{key} "
                f"AND ({', '.join(f't.{c}' for c in others)}) IS NOT DISTINCT FROM "
                f"({', '.join(f's.{c}' for c in others)})"
            )
        )

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
        others = self._others()
        assign = ", ".join(f"{c} = excluded.{c}" for c in others)
        distinct = "IS DISTINCT FROM" if self.postgres else "IS NOT"
        differs = " OR ".join(f"{self.target}.{c} {distinct} excluded.{c}" for c in others)
        return (
            f"{self._insert_sql(dedupe)} "
            f"ON CONFLICT ({self.q(self.key)}) DO UPDATE SET {assign} WHERE {differs}"
        )

    def _others(self) -> list[str]:
        """The table's columns other than its key, quoted: what tells a changed row."""
        return [self.q(c) for c in self.columns if c != self.key]

    def _insert_sql(self, dedupe: bool) -> str:
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
        # WHERE true: SQLite reads ON CONFLICT after a bare SELECT as a join's ON.
        return f"INSERT INTO {self.target} ({cols}) SELECT {cols} FROM {source} WHERE true"
