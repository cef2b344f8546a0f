"""Re-seal the texts stored encrypted in the case database (models/sealed.py) under the active
key: `python -m models.rekey` (issue 16 item 5).

After a new key is made active (README, 'Rotating a key'), new values are sealed with it, but
older ones stay under the key that sealed them. This walks every sealed column (found from the
models: every `SealedText` column), opens each value sealed under another key, seals it under
the active one and writes it back only if the row still holds what was read. Safe to run again
and while the worker runs; it prints counts, never content. Run it with the worker's database
login (or the owner's) and the same VCS_CODEC_KEYS / VCS_CODEC_ACTIVE_KEY as the worker.

Once it reports nothing left under an old key, the case database no longer needs that key.
Temporal's histories still do: keep the key until every history it sealed is past the
namespace's retention (README, 'Rotating a key').
"""

import sys
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlmodel import SQLModel

import models.db
from models.codec import load_keys
from models.errors import VcsError
from models.sealed import FORMAT, SealedText, Sealer

BATCH = 500


@dataclass(frozen=True)
class SealedColumn:
    table: str
    column: str
    purpose: str


@dataclass
class Resealed:
    column: str
    resealed: int = 0
    current: int = 0  # already under the active key


def sealed_columns() -> list[SealedColumn]:
    return [
        SealedColumn(table.name, column.name, column.type.purpose)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, SealedText)
    ]


def _statements(connection: Connection, target: SealedColumn) -> tuple[str, str]:
    """Raw SQL (text(): no column type opens or seals the values on the way)."""
    quote = connection.dialect.identifier_preparer.quote
    table, column = quote(target.table), quote(target.column)
    read = (
        f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL AND id > :after "
        f"ORDER BY id LIMIT {BATCH}"
    )
    write = f"UPDATE {table} SET {column} = :fresh WHERE id = :id AND {column} = :stored"
    return read, write


def reseal_column(engine: Engine, target: SealedColumn, sealer: Sealer) -> Resealed:
    """One batch a transaction; a row changed meanwhile keeps its newer value."""
    counts, after = Resealed(f"{target.table}.{target.column}"), 0
    active = f"{FORMAT}:{sealer.active}:"
    while True:
        with engine.begin() as connection:
            read, write = _statements(connection, target)
            rows = connection.execute(text(read), {"after": after}).all()
            for row_id, stored in rows:
                if stored.startswith(active):
                    counts.current += 1
                    continue
                fresh = sealer.seal(sealer.open(stored, target.purpose), target.purpose)
                done = connection.execute(
                    text(write), {"fresh": fresh, "id": row_id, "stored": stored}
                )
                counts.resealed += done.rowcount
        if len(rows) < BATCH:
            return counts
        after = rows[-1][0]


def rekey(engine: Engine, sealer: Sealer) -> list[Resealed]:
    return [reseal_column(engine, target, sealer) for target in sealed_columns()]


def main() -> int:
    engine = models.db.make_engine()
    try:
        sealer = Sealer(load_keys())
        for counts in rekey(engine, sealer):
            print(
                f"{counts.column}: {counts.resealed} re-sealed under key {sealer.active!r}, "
                f"{counts.current} already under it"
            )
    except VcsError as err:  # a key missing or wrong: names key ids only, never content
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
