"""The differential proof of the SQL path (issue 9, item 4), shared by every executed engine.

Hypothesis generates batches of Iconfirm records around the window boundaries of a drawn
as_of (the day before, on and after each window end and cut-off; 29 February, 31 August),
with missing facts, malformed values (impossible days, date-times, placeholders, unknown enum
values and vocabulary ids), every subject category and both roles; the pack-declared facts
present, null, absent (``unsubscribed_from_all_email`` reads as false: if_absent) or of the
wrong kind, and now and then a ``facts`` key the pack does not declare (PR340). An engine's
test loads each batch into the SQL layout and decides it with the compiled query; ``compare``
checks every answer against ``Policy.decide_batch(..., reasons=True)`` on outcome, decisive
rule, keep_until, lawful basis and reason code (N42, R1, R2: calendar months, clamped, end
inclusive), and that the SQL problem code is one the row engine names.

``Tally`` counts what each engine's run compared; tests/property/conftest.py prints the counts
after the run (the numbers docs/sql.md quotes).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable

from hypothesis import strategies as st

from privacy_rules.dates import add_months, cutoff
from privacy_rules.pack import load_pack
from privacy_rules.policy import Policy
from privacy_rules.sql.run import SqlAnswer

from .differential_questions import CONTACT_AND_SHARE

PACK = load_pack("rules/iconfirm")
POLICY = Policy(PACK)
V = PACK.vocabulary

AS_OFS = [date(2024, 2, 29), date(2024, 2, 28), date(2024, 3, 1), date(2023, 8, 31), date(2023, 9, 1),
          date(2023, 2, 28), date(2025, 12, 31), date(2026, 1, 1), date(2021, 7, 15), date(2022, 8, 31)]
MALFORMED_DAYS = ["2023-02-29", "2023-02-30", "2024-02-29T00:00:00", "2024-02-29 10:00", "9999-12-31", "1899-12-31",
                  "2024-2-1", "", "2024-13-01", "24-02-2024", "2024-02-29Z", "0000-01-01"]

SCOPES = sorted(V.scopes)
QUESTIONS = sorted({*(f"keep:{s}" for s in SCOPES), *CONTACT_AND_SHARE})
for _q in QUESTIONS:
    POLICY.check_question(_q)  # every question is one the pack knows


def _boundary_days(as_of: date) -> list[date]:
    """Days that decide windows on as_of: each window's end-anchor and cut-off, +-1, and as_of +-1."""
    out = {as_of, as_of - timedelta(days=1), as_of + timedelta(days=1), date(2020, 2, 29), date(2021, 8, 31),
           date(2024, 2, 29), date(2022, 8, 31)}
    for months in {w.months for w in V.windows.values()}:
        for d in (add_months(as_of, -months), cutoff(as_of, months)):
            out.update(d + timedelta(days=k) for k in (-1, 0, 1))
    return sorted(out)


class _Gen:
    """Records drawn from one ``random.Random``: hypothesis draws the seed (a batch of a hundred
    records is far more than its choice buffer holds, so the records come from the seed)."""

    def __init__(self, rnd: random.Random, as_of: date) -> None:
        self.rnd = rnd
        self.as_of = as_of
        self.near = [d.isoformat() for d in _boundary_days(as_of)]

    def day(self) -> str:
        r = self.rnd
        if r.random() < 0.7:
            return r.choice(self.near)
        return (date(2015, 1, 1) + timedelta(days=r.randrange(365 * 13))).isoformat()

    def maybe(self, p_none: float = 0.4) -> str | None:
        return None if self.rnd.random() < p_none else self.day()

    def pick(self, items: list[Any], p_none: float = 0.0) -> Any:
        return None if self.rnd.random() < p_none else self.rnd.choice(items)

    def some(self, items: list[Any], most: int) -> list[Any]:
        return self.rnd.sample(items, self.rnd.randint(0, min(most, len(items))))

    def n(self, most: int) -> int:
        return self.rnd.randint(0, most)

    def often(self, one_in: int) -> bool:
        return self.rnd.randrange(one_in) == 0

    def record(self, rid: str) -> dict[str, Any]:
        r = self.rnd
        rec: dict[str, Any] = {"id": rid}
        role = self.pick(["controller", "controller", "processor", None])
        if role is not None:
            rec["role"] = role
        if not self.often(10):
            rec["subject_categories"] = self.some(sorted(V.subject_categories), 3)
        rel = {}
        for k in ("first_contact_on", "downloaded_on", "customer_since", "customer_ended_on", "cooperation_ended_on",
                  "role_ended_on", "last_activity_on", "inbound_request_on"):
            v = self.maybe(0.5)
            if v is not None or self.often(4):
                rel[k] = v
        if rel:
            rec["relationship"] = rel
        for k, choices in (("contact_address_kind", ["personal", "impersonal"]),
                           ("source", ["self", "website", "linkedin", "public_register", "private_register"])):
            v = self.pick(choices, 0.4)
            if v is not None:
                rec[k] = v
        if self.often(2):
            rec["art14_informed_on"] = self.maybe()
        purposes, recipients = sorted(V.purposes), sorted(V.recipients)
        if self.often(2):
            # mechanisms that count, that do not, and none (a missing fact where the pack declares them, N53)
            rec["consents"] = [{"purpose": self.pick(purposes), "given_on": self.day(), "withdrawn_on": self.maybe(),
                                "recipient": self.pick(recipients, 0.7),
                                "mechanism": self.pick(["double_opt_in", "ticked_box", "pre_ticked_box",
                                                        "browser_setting", "unknown"], 0.3)}
                               for _ in range(self.n(3))]
        if self.often(3):
            rec["objections"] = [{"kind": self.pick(["art21_1", "art21_2"]), "received_on": self.day(),
                                  "withdrawn_on": self.maybe(), "compelling_grounds_on": self.maybe()}
                                 for _ in range(self.n(2))]
        if self.often(4):
            rec["restrictions"] = [{"requested_on": self.day(), "lifted_on": self.maybe(),
                                    "ground": self.pick(["art18_1_a", "art18_1_b", "art18_1_c", "art18_1_d"], 0.4)}
                                   for _ in range(self.n(2))]
        if self.often(3):
            rec["erasure_requests"] = [{"received_on": self.day(), "verified_on": self.maybe(),
                                        "answered_on": self.maybe(), "compelling_grounds_on": self.maybe(),
                                        "extended_on": self.maybe()}
                                       for _ in range(self.n(2))]
        if self.often(4):
            rec["rights_requests"] = [{"kind": self.pick(["access", "erasure", "objection"]), "received_on": self.day(),
                                       "verified_on": self.maybe(), "answered_on": self.maybe(),
                                       "extended_on": self.maybe()}
                                      for _ in range(self.n(2))]
        if self.often(4):
            rec["legal_holds"] = [{"placed_on": self.day(), "released_on": self.maybe(),
                                   "scopes": None if self.often(2) else self.some(SCOPES, 2)} for _ in range(self.n(2))]
        if self.often(4):
            rec["disclosure_orders"] = [{"recipient": self.pick(recipients), "received_on": self.day(),
                                         "binding": r.random() < 0.5} for _ in range(self.n(2))]
        if self.often(3):
            rec["vouchers"] = [{"fiscal_year": r.randint(self.as_of.year - 7, self.as_of.year + 1),
                                **({"fiscal_year_end": self.day()} if self.often(4) else {})} for _ in range(self.n(2))]
        if self.often(2):
            rec["data_categories"] = self.some(sorted(V.data_categories), 3)
        facts: dict[str, Any] = {}
        fact = r.randrange(10)
        if fact < 3:
            facts["deletion_instructed_on"] = self.day()
        elif fact == 3:  # present but unusable as a day: PR318/PR319 when it decides
            facts["deletion_instructed_on"] = self.pick([1, True, 2.5, "soon", "2023-02-30", "9999-12-31",
                                                         "1899-01-01"])
        elif fact == 4:  # present and null: absent
            facts["deletion_instructed_on"] = None
        unsub = r.randrange(10)  # absent (if_absent: false, READINGS #25) in half the records
        if unsub < 3:
            facts["unsubscribed_from_all_email"] = r.random() < 0.5
        elif unsub == 3:  # null: absent, read as false; or a value of another kind: unusable
            facts["unsubscribed_from_all_email"] = self.pick([None, "true", 1, 0, "yes"])
        if self.often(25):  # a key the pack does not declare: PR340, undetermined for every question
            facts[self.pick(["deletion_instructed", "Unsubscribed_from_all_email", "hs_email_optout",
                             "unsubscribed_from_all_email "])] = self.pick([True, None, "2020-01-01", 3])
        if facts or self.often(10):
            rec["facts"] = facts
        if self.often(20):  # one record in twenty carries a malformed value
            self.spoil(rec)
        return rec

    def spoil(self, rec: dict[str, Any]) -> None:
        """One malformed value: a day that is none, an unknown enum value or id, a missing field."""
        what = self.rnd.randrange(7)
        if what == 0:
            rec.setdefault("relationship", {})[self.pick(["first_contact_on", "customer_ended_on"])] = \
                self.pick(MALFORMED_DAYS)
        elif what == 1:
            rec["role"] = "owner"
        elif what == 2:
            rec["subject_categories"] = ["prospekt"]
        elif what == 3:
            rec["consents"] = [{"purpose": "newsleter", "given_on": "2020-01-01"}]
        elif what == 4:
            rec["objections"] = [{"kind": "art21_2", "received_on": self.pick(MALFORMED_DAYS)}]
        elif what == 5:
            rec["erasure_requests"] = [{"verified_on": "2020-01-01"}]  # no received_on: PR304
        else:
            rec["vouchers"] = [{"fiscal_year": 1800}]


Case = tuple[date, list[dict[str, Any]], list[str]]


def batches(least: int = 125, most: int = 150) -> st.SearchStrategy[Case]:
    """(as_of, ``least`` to ``most`` records, 5 to 8 questions)."""

    @st.composite
    def batch(draw: st.DrawFn) -> Case:
        as_of = draw(st.sampled_from(AS_OFS))
        gen = _Gen(random.Random(draw(st.integers(0, 2**64 - 1))), as_of)
        records = [gen.record(f"r{i}") for i in range(draw(st.integers(least, most)))]
        questions = draw(st.lists(st.sampled_from(QUESTIONS), min_size=5, max_size=8, unique=True))
        return as_of, records, questions

    return batch()


_CODE = re.compile(r"(?:^|; )(PR\d{3}) ")


def compare(records: list[dict[str, Any]], questions: list[str], as_of: date, got: list[SqlAnswer]) -> list[str]:
    """Every disagreement between the SQL answers and the row engine's, in words."""
    qs = [POLICY.check_question(q) for q in questions]
    by_key = {(a.record_id, a.question): a for a in got}
    out = []
    n = 0
    for row in POLICY.decide_batch(records, qs, as_of=as_of, reasons=True):
        for q, ans in zip(qs, row.answers):
            n += 1
            s = by_key.get((row.record_id or "", str(q)))
            if s is None:
                out.append(f"{row.record_id} {q}: no SQL answer")
                continue
            want = (ans.outcome.value, ans.rule_id, ans.keep_until, ans.basis.id if ans.basis else None, ans.reason_code)
            have = (s.outcome, s.decisive_rule, s.keep_until, s.basis, s.reason_code)
            if want != have:
                out.append(f"{row.record_id} {q} as of {as_of}: row engine {want}, SQL {have}; "
                           f"record {records[row.index]}")
                continue
            problem = row.problem if ans.reason_code == "undetermined:bad-record" else ans.problem
            codes = _CODE.findall(problem or "")
            if ans.reason_code == "undetermined:bad-record" and s.problem_code not in codes:
                out.append(f"{row.record_id} {q}: SQL problem {s.problem_code}, row engine {codes}")
            if ans.reason_code == "undetermined:unusable-fact" and s.problem_code != (codes[0] if codes else None):
                out.append(f"{row.record_id} {q}: SQL problem {s.problem_code}, row engine {codes}")
    if len(got) != n:
        out.append(f"SQL gave {len(got)} answers for {n} questions asked")
    return out


@dataclass
class Tally:
    """What one engine's differential run compared (printed after the run; docs/sql.md)."""

    engine: str
    batches: int = 0
    records: int = 0
    answers: int = 0
    disagreements: int = 0


def check_case(tally: Tally, case: Case,
               decide: Callable[[list[dict[str, Any]], list[str], date], list[SqlAnswer]]) -> None:
    """Decide one batch with ``decide`` (an engine), compare with the row engine, count, assert."""
    as_of, records, questions = case
    got = decide(records, questions, as_of)
    problems = compare(records, questions, as_of, got)
    tally.batches += 1
    tally.records += len(records)
    tally.answers += len(got)
    tally.disagreements += len(problems)
    assert not problems, "\n".join(problems[:10])
