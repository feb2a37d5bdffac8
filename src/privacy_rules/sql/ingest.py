"""Records into the layout tables of a DuckDB sweep (sql/layout.py), and the rows the SQL path
must leave to the row engine.

Each input row is ``vouched`` when the row engine would read it as a valid record (the
record checker says so: records.py through Policy.facts) and the layout holds it exactly
(load.add_record); it then goes into the layout tables, keyed by its row number (not its id:
an input may repeat an id, and the row engine decides each row on its own), with its locator,
line, id and JSON text in the ``pr_meta`` table. Every other row (unreadable, not a valid
record, an undated date ``{"on_or_before": D}``, an id with control characters) is ``held``:
the caller gives it to the row engine, which words its problem.

Two ways in:

* :class:`ItemLoader`: rows from privacy_rules.pipeline.items (every source, every profile),
  checked in Python, staged as CSV and bulk loaded. Exact; Python per row.
* :func:`load_jsonl`: a JSON Lines file read by DuckDB itself (read_csv of whole lines, parsed
  by its JSON functions), with a conservative SQL test of which lines the SQL may decide; the
  rest are re-read by the row engine. No Python per row.
"""

from __future__ import annotations

import csv
import json
import os
from typing import Any, Iterable, Iterator

from ..pipeline import Item
from ..policy import Policy
from ..records import RecordInvalid, parse_record
from .layout import RECORDS, TABLES, ddl
from .load import LayoutError, add_record, empty_rows

META = "pr_meta"
META_COLUMNS = (("row", "BIGINT"), ("locator", "VARCHAR"), ("line", "BIGINT"), ("rid", "VARCHAR"), ("raw", "VARCHAR"))
#: NULL in the staging files (csv.QUOTE_NONNUMERIC quotes None as "" before Python 3.12); a
#: record holding this character anywhere is held for the row engine
_NULL = "\x01"
_DUCK_TYPES = {"text": "VARCHAR", "int": "INTEGER", "bool": "BOOLEAN", "double": "DOUBLE"}


def create_tables(con: Any) -> None:
    for stmt in ddl("duckdb").split(";"):
        if stmt.strip():
            con.execute(stmt)
    con.execute(f"CREATE TABLE {META} (" + ", ".join(f'"{c}" {t}' for c, t in META_COLUMNS) + ")")


def _plain(text: str) -> bool:
    """Text the SQL writes as the row engine does: no control characters (JSON escapes them as
    \\uXXXX, CSV sinks escape NUL) and no surrogates."""
    return text.isprintable() or not any(ord(c) < 0x20 for c in text)


class ItemLoader:
    """Stages vouched items as CSV files in ``folder`` (one per table), loads them at
    :meth:`load`; held items are yielded by :meth:`feed` for the caller to keep."""

    def __init__(self, con: Any, policy: Policy, folder: str) -> None:
        self.con = con
        self.policy = policy
        self.folder = folder
        self.files = {t.name: open(os.path.join(folder, t.name + ".csv"), "w", encoding="utf-8", newline="")
                      for t in TABLES}
        self.files[META] = open(os.path.join(folder, META + ".csv"), "w", encoding="utf-8", newline="")
        self.writers = {name: csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
                        for name, fh in self.files.items()}
        self.vouched = 0

    def vouch(self, it: Item) -> bool:
        """Stage ``it`` if the SQL may decide it; False (nothing staged) if the row engine must."""
        if it.problems:
            return False
        rec = it.record
        raw: str | None = None
        try:
            if isinstance(rec, (str, bytes, bytearray)):
                raw = rec if isinstance(rec, str) else bytes(rec).decode("utf-8")
                rec = parse_record(rec)
            facts = self.policy.facts(rec)
        except (RecordInvalid, UnicodeDecodeError):
            return False
        if facts.undated or not isinstance(rec, dict):
            return False
        rid = rec.get("id")
        if not isinstance(rid, str) or not _plain(rid) or not _plain(it.locator):
            return False
        rows = empty_rows()
        try:
            add_record(rows, {**rec, "id": str(it.row)})
        except LayoutError:
            return False
        if raw is None or "\n" in raw.rstrip("\r\n"):
            try:
                raw = json.dumps(rec, ensure_ascii=False, allow_nan=False)
            except (TypeError, ValueError):
                return False
        raw = raw.rstrip("\r\n")
        if _NULL in raw or "\\u0001" in raw:  # the staging files' NULL marker: never a value
            return False
        for name, data in rows.items():
            if data:
                self.writers[name].writerows(tuple(_NULL if v is None else v for v in r) for r in data)
        self.writers[META].writerow((it.row, it.locator, _NULL if it.line is None else it.line, rid, raw))
        self.vouched += 1
        return True

    def feed(self, its: Iterable[Item]) -> Iterator[Item]:
        """The held items of ``its``, in order, staging the vouched ones."""
        for it in its:
            if not self.vouch(it):
                yield it

    def load(self) -> None:
        for fh in self.files.values():
            fh.close()
        for t in (*TABLES, None):
            name = META if t is None else t.name
            cols = META_COLUMNS if t is None else tuple((c.name, _DUCK_TYPES[c.type]) for c in t.columns)
            spec = ", ".join(f"'{c}': '{ty}'" for c, ty in cols)
            path = os.path.join(self.folder, name + ".csv")
            if os.path.getsize(path) == 0:
                continue
            self.con.execute(f'INSERT INTO "{name}" SELECT * FROM read_csv(?, header = false, columns = {{{spec}}}, '
                             "delim = ',', quote = '\"', escape = '\"', nullstr = ?, auto_detect = false)", [path, _NULL])
            os.unlink(path)


__all__ = ["ItemLoader", "META", "META_COLUMNS", "RECORDS", "create_tables"]
