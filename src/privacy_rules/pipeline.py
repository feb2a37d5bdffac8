"""Host rows -> canonical records -> answers: the sweep ``evaluate`` runs, as a Python API.

::

    from datetime import date
    from privacy_rules import compile_pack
    from privacy_rules.pipeline import evaluate_source
    from privacy_rules.sources import open_source

    policy = compile_pack("rules/iconfirm")
    with open_source("contacts.csv") as src:
        for r in evaluate_source(policy, src, as_of=date(2025, 1, 31)):
            r.locator, r.record_id, r.problem
            for a in r.answers:          # in the order of the questions
                a.outcome, a.rule_id, a.keep_until, a.basis, a.reason_code, a.reason

One :class:`Result` per row, in input order; a row that cannot be read or mapped, or is not a
valid record, gets UNDETERMINED answers (``reason_code`` ``undetermined:bad-record``) and its
``problem``, and the sweep goes on. The clock is never read; nothing is written.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Iterator, Mapping, Protocol, Sequence

from ._answers import Answer, bad_answers, compact
from .model import Diagnostic, Question
from .policy import Policy
from .records import record_id_of
from .sources import FlatLayout, Source, SourceError, Unreadable


class Mapped(Protocol):
    """What a mapping profile's ``map_row`` returns (privacy_rules.mapping)."""

    @property
    def record(self) -> dict[str, Any] | None: ...

    @property
    def problems(self) -> tuple[Diagnostic, ...]: ...


class Profile(Protocol):
    """The part of a mapping profile (privacy_rules.mapping.Profile) the pipeline uses:
    ``map_row``; ``record_id`` (the host field of the id), ``case_insensitive`` and
    ``children`` (child table name -> its ``key`` and ``parent_key``), for grouping child rows."""

    @property
    def record_id(self) -> str: ...

    @property
    def case_insensitive(self) -> bool: ...

    @property
    def children(self) -> Mapping[str, Any]: ...

    def map_row(self, row: Mapping[str, Any], *, known_on: date | None, time_zone: str,
                children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None, locator: str = "") -> Mapped: ...

#: child rows held in memory per run (a consent log); a bigger child table is refused
MAX_CHILD_ROWS = 5_000_000


@dataclass(frozen=True, slots=True)
class Item:
    """One input row made ready for the policy: the canonical record (a dict, or from a JSON
    input without a profile its JSON text), or the problems that keep it from being decided."""

    row: int  # 1-based, in input order
    locator: str
    line: int | None
    record: Any
    problems: tuple[Diagnostic, ...] = ()
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """The answers for one input row, in the order of the questions.

    ``problem``: why the row is undetermined when it could not be decided at all (``CODE
    message (help)``, joined by ``; ``), else None. ``locator``: where the row is ("line 12",
    "item 3", "row 12"); ``line`` the line it starts on in a text input, else None.
    """

    row: int
    locator: str
    line: int | None
    record_id: str | None
    answers: tuple[Answer, ...]
    problem: str | None


def items(source: Source, *, profile: Profile | None = None, known_on: date | None = None,
          time_zone: str = "UTC", children: Mapping[str, Source] | None = None) -> Iterator[Item]:
    """Each row of ``source`` as an :class:`Item`: through ``profile`` when given, else in the
    flat layout (tabular inputs) or as the record itself (JSON inputs).

    ``children`` (with a profile): a source per child table the profile declares; their rows
    are read first, grouped by the table's key, and each parent row gets its own (a child
    table is held in memory, at most MAX_CHILD_ROWS rows). Raises SourceError (before the
    first item) when a tabular input's columns name no record field, or a child table cannot
    be read.
    """
    json_input = source.columns is None
    layout = None
    groups: dict[str, tuple[str, dict[str, list[Mapping[str, Any]]]]] = {}
    if profile is None:
        if children:
            raise SourceError("child tables go with a mapping profile (--profile)")
        if not json_input:
            layout = FlatLayout.for_columns(source.columns or (), text=source.format == "csv", where=source.name)
    else:
        # a column the profile requires but the input lacks is each row's problem (the profile's), so a
        # file without it has every row bad and --max-bad stops the run, naming the column.
        # (Profile.missing_fields could say so at the header, but counts fields of events whose
        # optional trigger column is absent, which map_row does not require.)
        groups = _child_groups(profile, children or {})
    fold = bool(profile is not None and getattr(profile, "case_insensitive", False))
    n = 0
    for r in source.rows(raw=profile is None):
        n += 1
        value = r.value
        if isinstance(value, Unreadable):
            yield Item(n, r.locator, r.line, None, value.problems, value.record_id)
        elif profile is not None:
            kids = None
            if groups:
                kids = {}
                for name, (parent, grouped) in groups.items():
                    key = _join(_field(value, parent, fold))
                    kids[name] = grouped.get(key, []) if key is not None else []
            mapped = profile.map_row(value, known_on=known_on, time_zone=time_zone, children=kids, locator=r.locator)
            rec = mapped.record
            if mapped.problems or rec is None:
                rid = getattr(mapped, "record_id", None) or record_id_of(rec)
                yield Item(n, r.locator, r.line, None, tuple(mapped.problems) or _unmapped(), rid)
            else:
                yield Item(n, r.locator, r.line, rec, (), None)
        elif layout is not None:
            rec, problems = layout.record(value)
            if problems:
                yield Item(n, r.locator, r.line, None, problems, record_id_of(rec))
            else:
                yield Item(n, r.locator, r.line, rec)
        else:
            yield Item(n, r.locator, r.line, value)


def _shown(value: Any) -> str:
    from .errors import shown

    return shown(value)


def _field(row: Mapping[str, Any], name: str, fold: bool) -> Any:
    if name in row or not fold:
        return row.get(name)
    folded = name.casefold()
    return next((v for k, v in row.items() if isinstance(k, str) and k.casefold() == folded), None)


def _join(value: Any) -> str | None:
    """A join key as text: ids compare as the text the host shows (`1001` and 1001 alike)."""
    if value is None or isinstance(value, (bytes, bytearray)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _child_groups(profile: Profile, children: Mapping[str, Source]
                  ) -> dict[str, tuple[str, dict[str, list[Mapping[str, Any]]]]]:
    """Per child table given: (the parent's join field, the child rows by their key). A child
    row that cannot be read fails the run: it could be the withdrawal that keeps a consent from
    counting, and it belongs to no parent row that could carry the problem."""
    declared = profile.children
    unknown = [c for c in children if c not in declared]
    if unknown:
        raise SourceError(f"the profile has no child table `{_shown(unknown[0])}`",
                          "its child tables: " + (", ".join(f"`{c}`" for c in declared) or "none"))
    fold = bool(getattr(profile, "case_insensitive", False))
    out: dict[str, tuple[str, dict[str, list[Mapping[str, Any]]]]] = {}
    for name, src in children.items():
        table = declared[name]
        grouped: dict[str, list[Mapping[str, Any]]] = {}
        count = 0
        for r in src.rows():
            if isinstance(r.value, Unreadable):
                p = r.value.problems[0]
                raise SourceError(f"{src.name}: {r.locator} of child table `{_shown(name)}`: {p.code} {p.message}",
                                  "fix the row: a child row that cannot be read could hide an event of its record")
            count += 1
            if count > MAX_CHILD_ROWS:
                raise SourceError(f"{src.name}: child table `{_shown(name)}` has more than {MAX_CHILD_ROWS:,} rows",
                                  "child tables are held in memory: sweep the records in parts (--query)")
            key = _join(_field(r.value, table.key, fold))
            if key is not None:
                grouped.setdefault(key, []).append(r.value)
        out[name] = (getattr(table, "parent_key", None) or profile.record_id, grouped)
    return out


def _unmapped() -> tuple[Diagnostic, ...]:
    from .sources._base import problem

    return (problem("PR705", "the profile gave no record for this row", "check the profile's mapping of `id`"),)


def evaluate_items(policy: Policy, source_items: Iterable[Item], questions: Sequence[Question], *,
                   as_of: date, reasons: bool = True) -> Iterator[Result]:
    """Compact answers with reasons (``decide_batch(..., reasons=True)``) for each item, in order;
    ``reasons=False`` leaves basis, reason code and reason out (faster)."""
    pending: deque[Item] = deque()

    def feed() -> Iterator[Any]:
        for it in source_items:
            pending.append(it)
            yield it.record  # None for a row with problems: decided as nothing, answered below

    for row in policy.decide_batch(feed(), questions, as_of=as_of, reasons=reasons):
        it = pending.popleft()
        if it.problems:
            yield Result(it.row, it.locator, it.line, it.record_id, bad_answers(len(questions), it.problems),
                         f"{it.locator}: {compact(it.problems)}")
        else:
            yield Result(it.row, it.locator, it.line, row.record_id, row.answers,
                         f"{it.locator}: {row.problem}" if row.problem else None)


def evaluate_source(policy: Policy, source: Source, questions: Iterable[Question | str] | None = None, *,
                    as_of: date, profile: Profile | None = None, known_on: date | None = None,
                    children: Mapping[str, Source] | None = None) -> Iterator[Result]:
    """:func:`items` then :func:`evaluate_items`: the whole sweep over one source.

    ``questions``: as for ``Policy.decide_all`` (None: the pack's standard questions).
    ``profile``/``known_on``/``children``: a mapping profile, the day its undated facts are
    known on (the export or sync day), and sources for its child tables. Raises SourceError as :func:`items` does, and as the source does
    while reading (a file cut short, a lost connection).
    """
    qs = [policy.check_question(q) for q in questions] if questions is not None else list(policy.standard_questions)
    tz = str(policy.pack.meta.get("time_zone") or "UTC")
    its = items(source, profile=profile, known_on=known_on, time_zone=tz, children=children)
    return evaluate_items(policy, its, qs, as_of=as_of)


# --- the summary ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts for the run summary: per question and outcome, per question and reason code,
    bad rows by the code of their first problem, and the first few problems. Not thread-safe."""

    questions: Sequence[str]
    keep_problems: int = 5
    rows: int = 0
    bad: int = 0
    outcomes: dict[tuple[str, str], int] = field(default_factory=dict)
    reason_codes: dict[tuple[str, str], int] = field(default_factory=dict)
    problem_codes: dict[str, int] = field(default_factory=dict)
    first_problems: list[tuple[str, str | None, str]] = field(default_factory=list)

    def add(self, r: Result) -> None:
        self.rows += 1
        outcomes, codes = self.outcomes, self.reason_codes
        for q, a in zip(self.questions, r.answers):
            key = (q, a.outcome._value_)  # `.value` is a slower property
            outcomes[key] = outcomes.get(key, 0) + 1
            ck = (q, a.reason_code or "")
            codes[ck] = codes.get(ck, 0) + 1
        if r.problem is not None:
            self.bad += 1
            code = r.problem.split(": ", 1)[-1].split(" ", 1)[0]
            self.problem_codes[code] = self.problem_codes.get(code, 0) + 1
            if len(self.first_problems) < self.keep_problems:
                self.first_problems.append((r.locator, r.record_id, r.problem))


@dataclass(frozen=True, slots=True)
class MaxBad:
    """``--max-bad``: how many bad rows (unreadable, or not a valid record) a run tolerates.

    A count ``N``: the run stops as soon as more than N rows are bad. A percentage ``P%``:
    checked when the input ends; the run fails when more than P% of the rows are bad and more
    than ``FLOOR`` rows are, or when every row is bad (P < 100). The default, 1%, lets a large
    sweep pass a few broken rows while a file read in the wrong format (every row bad) fails.
    """

    count: int | None = None
    percent: float | None = None

    FLOOR = 10

    @classmethod
    def parse(cls, text: str) -> MaxBad:
        t = text.strip()
        try:
            if t.endswith("%"):
                p = float(t[:-1])
                if not 0 <= p <= 100:
                    raise ValueError
                return cls(percent=p)
            n = int(t)
            if n < 0:
                raise ValueError
            return cls(count=n)
        except ValueError:
            raise SourceError(f"--max-bad: `{text}` is neither a count nor a percentage",
                              "give a number of rows (`0`, `25`) or a share of the rows (`1%`, `0.5%`)") from None

    def __str__(self) -> str:
        if self.percent is None:
            return str(self.count)
        text = f"{self.percent:f}".rstrip("0").rstrip(".")
        return f"{text}%"

    def exceeded_now(self, bad: int) -> bool:
        """True when a count is exceeded: the run can stop at once."""
        return self.count is not None and bad > self.count

    def exceeded(self, bad: int, rows: int) -> bool:
        """True when the run, having read ``rows`` rows of which ``bad`` are bad, fails."""
        if self.count is not None:
            return bad > self.count
        p = self.percent if self.percent is not None else 1.0
        if p >= 100:
            return False
        if rows and bad == rows:
            return True
        return bad > self.FLOOR and bad * 100 > p * rows


__all__ = ["Item", "Mapped", "MaxBad", "Profile", "Result", "Tally", "evaluate_items", "evaluate_source", "items"]
