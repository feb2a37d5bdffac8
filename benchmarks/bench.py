#!/usr/bin/env python
"""privacy-rules benchmark: the Iconfirm pack against a hand-written baseline, in ONE process.

    python benchmarks/bench.py [--records N] [--seed S] [--quick] [--jsonl-lines M]
                               [--repeats R] [--durable-records D] [--profile K] [--keep-files]

What it does (see benchmarks/README.md for what every number means):

1. generates N seeded synthetic canonical records (docs/rule-language.md section 4) for the
   Iconfirm pack: prospects, customers (current, former, contact persons who left), partners,
   privacy professionals, downloaders, newsletter subscribers (consents given / withdrawn /
   given after as_of), website visitors, multi-category people, processor-role platform users,
   objections, restrictions, erasure and rights requests, legal holds, disclosure orders,
   vouchers; ~2% with a missing fact and ~1% malformed (impossible date, typo'd field, ...).
   Many dates sit on window boundaries for AS_OF (the correct cut-off, the day before it, and
   the naive "as_of - N months" cut-off that DESIGN.md "Time" shows is wrong) and on
   29 February / 31 August anchors.
2. times, for QUESTIONS (keep, contact:newsletter:email, share:hubspot:relationship_management):
   a. ``Policy.decide_batch`` consumed fully;
   b. ``Policy.decide`` per record and question (full explained Decision), plus ``decide_all``;
   c. the durable-rules engine on a subset, if ``privacy_rules.engines.durable`` imports;
   d. a hand-written plain-Python function of the same rules (``make_hand``), and counts its
      disagreements with the batch API on every record (and on a few more as_of days);
   e. ``load_pack`` + ``compile_pack`` (median of 5), and compile alone;
   f. ``privacy-rules evaluate`` over a generated JSONL file of M lines in a child process:
      wall time, lines/s and the child's peak RSS.
3. prints a table of decisions/s with ratios, the issue's targets marked MET / NOT MET, and
   machine information.

One decision = one question answered for one record. Timings use time.perf_counter; every
timed run comes after an untimed warm-up; the table reports the median of ``--repeats`` runs
(the best run is shown too). Nothing here is a test: tests/unit/test_benchmark_smoke.py only
checks that the baseline and the engine agree.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import cProfile
import gc
import hashlib
import io
import itertools
import json
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from collections.abc import Mapping as _AbcMapping
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import privacy_rules
from privacy_rules import Question
from privacy_rules.dates import add_months, cutoff, iso_cutoff, window_end

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACK_DIR = ROOT / "rules" / "iconfirm"

#: The day every timed decision is asked on: a 29 February, where the naive month cut-off is
#: wrong for the 24- and 36-month windows (DESIGN.md "Time").
AS_OF = date(2024, 2, 29)
#: More days the hand-written baseline is checked on (untimed): month ends and leap days.
EXTRA_AS_OF = (date(2023, 3, 31), date(2025, 8, 31), date(2026, 3, 1), date(2028, 2, 29))
QUESTION_TEXTS = ("keep", "contact:newsletter:email", "share:hubspot:relationship_management")
QUESTIONS = tuple(Question.parse(t) for t in QUESTION_TEXTS)

ALLOW, DENY, UND = "allow", "deny", "undetermined"

TARGETS = {
    "batch": 1_000_000,          # decisions/s
    "per_record": 100_000,       # decisions/s, decide: the explained (lazy) Decision, record checked per call
    "decide_all_prepared": 250_000,  # decisions/s, decide_all over a prepared record (Policy.prepare)
    "vs_durable": 20.0,          # x
    "load_compile_ms": 50.0,     # ms, warm: in process, the pack's files in the cache of checked files
    "cold_start_ms": 300.0,      # ms, a fresh interpreter: import + load + compile
    "evaluate_peak_mb": 200.0,   # MB over 1M lines
}


# ============================================================================================
# 1. Synthetic records
# ============================================================================================

_SPECIAL_ANCHORS = (date(2016, 2, 29), date(2020, 2, 29), date(2024, 2, 29), date(2020, 8, 31),
                    date(2021, 8, 31), date(2022, 8, 31), date(2023, 8, 31), date(2021, 2, 28),
                    date(2022, 2, 28), date(2023, 2, 28), date(2023, 3, 1), date(2021, 3, 1))

_SOURCES = ("self", "website", "linkedin", "public_register", "private_register")
_BAD_DATES = ("2023-02-30", "2022-02-29", "2024-04-31", "2023-13-01", "2021-00-10", "2023-06-31")
_KINDS = (  # (category, weight)
    ("prospect", 22), ("customer_current", 12), ("customer_former", 10), ("contact_left", 4),
    ("partner", 5), ("privacy_professional", 8), ("downloader", 8), ("newsletter", 10),
    ("visitor", 4), ("multi", 9), ("processor", 5), ("unknown_person", 3),
)
_MULTI = (("prospect", "newsletter_subscriber"), ("customer", "privacy_professional"),
          ("material_downloader", "newsletter_subscriber"), ("partner", "privacy_professional"),
          ("prospect", "material_downloader"), ("customer", "newsletter_subscriber"),
          ("prospect", "privacy_professional"), ("customer", "prospect"))


class _Pools:
    """ISO date strings the generator draws from, fixed for one as_of."""

    def __init__(self, as_of: date) -> None:
        one = timedelta(days=1)

        def around(d: date) -> list[str]:
            return [(d - one).isoformat(), d.isoformat(), (d + one).isoformat()]

        def boundary(months: int) -> list[str]:
            # the correct cut-off, its neighbours, and the naive "as_of - N months" cut-off
            return sorted(set(around(cutoff(as_of, months)) + around(add_months(as_of, -months))))

        self.b1, self.b24, self.b36 = boundary(1), boundary(24), boundary(36)
        self.asof = around(as_of)
        self.special = [d.isoformat() for d in _SPECIAL_ANCHORS]
        lo = as_of - timedelta(days=6 * 365)
        self.days = [(lo + timedelta(days=k)).isoformat() for k in range(6 * 365 + 60)]  # to as_of + 59
        self.past = self.days[: 6 * 365 + 1]  # up to and including as_of
        self.recent = self.past[-120:]


class _Gen:
    def __init__(self, rng: random.Random, pools: _Pools) -> None:
        self.r = rng
        self.p = pools
        kinds, weights = zip(*_KINDS)
        self.kinds = kinds
        self.cum = list(itertools.accumulate(weights))

    def kind(self) -> str:
        return self.kinds[bisect.bisect_right(self.cum, self.r.random() * self.cum[-1])]

    def anchor(self, boundary: list[str], p_boundary: float = 0.35) -> str:
        x = self.r.random()
        if x < p_boundary:
            return self.r.choice(boundary)
        if x < p_boundary + 0.08:
            return self.r.choice(self.p.special)
        if x < p_boundary + 0.12:
            return self.r.choice(self.p.asof)
        return self.r.choice(self.p.days)

    def past(self) -> str:
        return self.r.choice(self.p.past)

    def event(self, boundary: list[str] | None = None) -> str:
        """A day for an event: mostly past, sometimes as_of / the day after / a boundary."""
        x = self.r.random()
        if x < 0.12:
            return self.r.choice(self.p.asof)
        if boundary is not None and x < 0.4:
            return self.r.choice(boundary)
        if x < 0.55:
            return self.r.choice(self.p.recent)
        return self.past()

    def after(self, day: str) -> str:
        i = bisect.bisect_left(self.p.days, day)
        return self.r.choice(self.p.days[i:]) if i < len(self.p.days) else day


def _make_record(i: int, g: _Gen) -> dict[str, Any]:
    r = g.r
    rec: dict[str, Any] = {"id": f"bench-{i:07d}", "role": "controller"}
    rel: dict[str, Any] = {}
    kind = g.kind()
    anchor_key = None
    if kind == "prospect":
        subj = ["prospect"]
        rel["first_contact_on"] = g.anchor(g.p.b24)
        anchor_key = "first_contact_on"
        if r.random() < 0.6:
            rel["last_activity_on"] = g.after(rel["first_contact_on"])
    elif kind in ("customer_current", "customer_former", "contact_left"):
        subj = ["customer"]
        rel["customer_since"] = g.past()
        if kind == "customer_former":
            rel["customer_ended_on"] = g.anchor(g.p.b36, 0.4)
        if kind == "contact_left" or (kind == "customer_former" and r.random() < 0.2):
            rel["role_ended_on"] = g.anchor(g.p.b36, 0.4)
    elif kind == "partner":
        subj = ["partner"]
        if r.random() < 0.5:
            rel["cooperation_ended_on"] = g.anchor(g.p.b36, 0.4)
        if r.random() < 0.15:
            rel["role_ended_on"] = g.anchor(g.p.b36)
    elif kind == "privacy_professional":
        subj = ["privacy_professional"]
        rel["last_activity_on"] = g.anchor(g.p.b36, 0.4)
        anchor_key = "last_activity_on"
    elif kind == "downloader":
        subj = ["material_downloader"]
        rel["downloaded_on"] = g.anchor(g.p.b24, 0.4)
        anchor_key = "downloaded_on"
    elif kind == "newsletter":
        subj = ["newsletter_subscriber"]
    elif kind == "visitor":
        subj = ["website_visitor"]
    elif kind == "multi":
        subj = list(r.choice(_MULTI))
        if "prospect" in subj:
            rel["first_contact_on"] = g.anchor(g.p.b24)
        if "material_downloader" in subj:
            rel["downloaded_on"] = g.anchor(g.p.b24)
        if "privacy_professional" in subj:
            rel["last_activity_on"] = g.anchor(g.p.b36)
        if "customer" in subj:
            rel["customer_since"] = g.past()
            if r.random() < 0.4:
                rel["customer_ended_on"] = g.anchor(g.p.b36)
        if "partner" in subj and r.random() < 0.4:
            rel["cooperation_ended_on"] = g.anchor(g.p.b36)
    elif kind == "processor":
        rec["role"] = "processor"
        subj = ["platform_end_user"]
        if r.random() < 0.2:
            rel["customer_ended_on"] = g.anchor(g.p.b36)
    else:  # a person in no category the pack keeps for: no basis
        subj = []
    rec["subject_categories"] = subj
    if r.random() < 0.1:
        rel["inbound_request_on"] = g.event()
    if r.random() < 0.3:  # hosts often send explicit nulls
        for key in ("customer_ended_on", "role_ended_on", "cooperation_ended_on"):
            rel.setdefault(key, None)
    if rel or r.random() < 0.5:
        rec["relationship"] = rel
    if r.random() < 0.8:
        rec["contact_address_kind"] = "personal" if r.random() < 0.7 else "impersonal"
    if r.random() < 0.85:
        rec["source"] = r.choice(_SOURCES)
    if r.random() < 0.3:
        rec["art14_informed_on"] = g.event()

    # ---- consents
    consents = []
    if "newsletter_subscriber" in subj or r.random() < 0.12:
        given = g.event()
        c: dict[str, Any] = {"purpose": "newsletter", "given_on": given, "mechanism": "double_opt_in"}
        x = r.random()
        if x < 0.3:
            c["withdrawn_on"] = r.choice(g.p.asof) if r.random() < 0.4 else g.after(given)
        elif x < 0.5:
            c["withdrawn_on"] = None
        consents.append(c)
        if "withdrawn_on" in c and c["withdrawn_on"] and r.random() < 0.2:  # re-subscribed later
            consents.append({"purpose": "newsletter", "given_on": g.after(c["withdrawn_on"]), "mechanism": "double_opt_in"})
    if "website_visitor" in subj and r.random() < 0.8 or r.random() < 0.05:
        c = {"purpose": "web_tracking", "given_on": g.event(), "mechanism": "ticked_box"}
        if r.random() < 0.2:
            c["withdrawn_on"] = g.after(c["given_on"])
        consents.append(c)
    if r.random() < 0.01:
        consents.append({"purpose": "third_party_disclosure", "recipient": "event_partner", "given_on": g.event(),
                         "mechanism": "written"})
    if consents:
        rec["consents"] = consents

    # ---- rights events
    if r.random() < 0.07:
        o: dict[str, Any] = {"kind": r.choice(("art21_1", "art21_2")), "received_on": g.event()}
        if r.random() < 0.1:
            o["withdrawn_on"] = g.after(o["received_on"])
        if o["kind"] == "art21_1" and r.random() < 0.15:
            o["compelling_grounds_on"] = g.after(o["received_on"])
        rec["objections"] = [o]
    if r.random() < 0.03:
        res: dict[str, Any] = {"requested_on": g.event()}
        if r.random() < 0.8:
            res["ground"] = r.choice(("art18_1_a", "art18_1_b", "art18_1_c", "art18_1_d"))
        if r.random() < 0.3:
            res["lifted_on"] = g.after(res["requested_on"])
        rec["restrictions"] = [res]
    if r.random() < 0.03:
        e: dict[str, Any] = {"received_on": g.event(g.p.b1)}
        if r.random() < 0.5:
            e["verified_on"] = r.choice(g.p.asof) if r.random() < 0.4 else g.after(e["received_on"])
        rec["erasure_requests"] = [e]
    if r.random() < 0.03:
        rr: dict[str, Any] = {"kind": r.choice(("access", "rectification", "portability", "objection")),
                              "received_on": g.event(g.p.b1)}
        if r.random() < 0.4:
            rr["verified_on"] = g.after(rr["received_on"])
        if r.random() < 0.3:
            rr["answered_on"] = g.after(rr["received_on"])
        rec["rights_requests"] = [rr]
    if r.random() < 0.015:
        h: dict[str, Any] = {"placed_on": g.event(), "matter": "dispute"}
        if r.random() < 0.3:
            h["released_on"] = g.after(h["placed_on"])
        rec["legal_holds"] = [h]
    if r.random() < 0.01:
        rec["disclosure_orders"] = [{"recipient": r.choice(("police", "tax_authority", "datatilsynet")),
                                     "received_on": g.event(), "binding": r.random() < 0.6}]
    cats = ["contact_information", "employer", "position"]  # ids of the pack's vocabulary (PR321)
    if "customer" in subj and r.random() < 0.35:
        v: dict[str, Any] = {"fiscal_year": r.randrange(2016, 2025)}
        if r.random() < 0.2:
            v["fiscal_year_end"] = f"{v['fiscal_year']}-06-30"
        rec["vouchers"] = [v]
        cats.append("accounting_voucher")
    if r.random() < 0.02:
        cats.append("special_category")
    rec["data_categories"] = cats
    rec["systems"] = ["hubspot"] if r.random() < 0.7 else ["hubspot", "microsoft_365"]
    if "newsletter_subscriber" in subj and r.random() < 0.2:  # HubSpot's "Unsubscribed from all email"
        rec["facts"] = {"unsubscribed_from_all_email": r.random() < 0.5}
    if r.random() < 0.5:
        rec["host"] = {"hubspot_id": str(100000 + i), "owner": r.choice(("kari", "ola", "nina"))}

    # ---- missing facts (~2%) and malformed records (~1%)
    x = r.random()
    if x < 0.005:
        del rec["role"]
    elif x < 0.01:
        del rec["subject_categories"]
    elif x < 0.02:
        if anchor_key is not None:
            rel.pop(anchor_key, None)
    elif x < 0.03:
        _break(rec, r)
    return rec


def _break(rec: dict[str, Any], r: random.Random) -> None:
    """Make the record malformed in one of the ways hosts do."""
    how = r.randrange(10)
    rel = rec.setdefault("relationship", {})
    if how == 0:
        rel["first_contact_on"] = r.choice(_BAD_DATES)          # impossible date
    elif how == 1:
        rec["consent"] = rec.pop("consents", [])                # typo'd top-level field
    elif how == 2:
        rel["first_contact"] = "2023-05-01"                     # typo'd nested field
    elif how == 3:
        rec["objections"] = [{"kind": "art21_2", "recieved_on": "2023-05-01"}]  # typo'd entry field
    elif how == 4:
        rel["last_activity_on"] = "2024-01-05T10:00:00"          # a datetime, not a day
    elif how == 5:
        rel["customer_ended_on"] = "2024-1-5"                    # not YYYY-MM-DD
    elif how == 6:
        rec["role"] = "Controller"                               # enum with the wrong case
    elif how == 7:
        rec["subject_categories"] = "prospect"                   # a string, not a list
    elif how == 8:
        rec["erasure_requests"] = [{"received_on": r.choice(_BAD_DATES), "verified_on": None}]
    else:
        rec["facts"] = {"unsubscribed_from_all_emails": True}    # a fact the pack does not declare (PR340)


def iter_records(n: int, seed: int = 1, as_of: date = AS_OF) -> Iterator[dict[str, Any]]:
    """n synthetic canonical records, deterministic for (seed, as_of); record i never depends on n."""
    g = _Gen(random.Random(seed), _Pools(as_of))
    for i in range(n):
        yield _make_record(i, g)


def generate_records(n: int, seed: int = 1, as_of: date = AS_OF) -> list[dict[str, Any]]:
    return list(iter_records(n, seed, as_of))


# ============================================================================================
# 2d. The hand-written baseline
# ============================================================================================
# The same rules, written by hand from rules/iconfirm/*.yaml for the three QUESTIONS only.
# Dates stay ISO strings; cut-offs come once per as_of from privacy_rules.dates.iso_cutoff.
# The record check below is what the baseline needs to give the engine's answer on bad input
# (a malformed record is undetermined for every question); it is written from
# docs/rule-language.md section 4, not imported from the library.

_TOP = frozenset(("id", "role", "contact_address_kind", "source", "art14_informed_on", "relationship", "facts",
                  "host", "consents", "objections", "restrictions", "erasure_requests", "rights_requests",
                  "legal_holds", "disclosure_orders", "vouchers", "subject_categories", "data_categories",
                  "systems"))
_REL = frozenset(("first_contact_on", "downloaded_on", "customer_since", "customer_ended_on",
                  "cooperation_ended_on", "role_ended_on", "last_activity_on", "inbound_request_on"))
_D, _S, _B, _I = "date", "str", "bool", "int"
# The ids rules/iconfirm/pack.yaml defines: a record naming another is a record problem (PR321).
_SUBJECTS = frozenset(("customer", "material_downloader", "newsletter_subscriber", "partner", "platform_end_user",
                       "privacy_professional", "prospect", "website_visitor"))
_CATEGORIES = frozenset(("accounting_voucher", "activity_log", "consent_record", "contact_information", "employer",
                         "meeting_notes", "position", "special_category", "web_visits"))
_PURPOSES = frozenset(("account_administration", "accounting", "identity_verification", "internal_documentation",
                       "knowledge_exchange", "legal_disclosure", "newsletter", "platform_operation",
                       "product_change_notice", "relationship_management", "rights_handling", "third_party_disclosure",
                       "web_publishing", "web_tracking"))
_RECIPIENTS = frozenset(("appendix4_subprocessors", "datatilsynet", "econ_partner", "event_partner", "hubspot",
                         "legacy_us_processor", "microsoft_365", "police", "tax_authority", "tripletex"))
_SCOPES = frozenset(("accounting_voucher", "newsletter_subscription", "platform_data", "relationship_record",
                     "special_category_note", "suppression_entry", "web_visit_log"))
# The facts rules/iconfirm/pack.yaml declares (vocabulary.facts): any other key is PR340.
_FACTS = frozenset(("deletion_instructed_on", "unsubscribed_from_all_email"))
_LISTS: tuple[tuple[str, frozenset[str], tuple[str, ...], tuple[tuple[str, Any], ...]], ...] = (
    # (list, allowed keys, required keys, (key, kind or tuple of enum values))
    ("consents", frozenset(("purpose", "recipient", "given_on", "withdrawn_on", "mechanism")), ("purpose", "given_on"),
     (("purpose", _PURPOSES), ("recipient", _RECIPIENTS), ("given_on", _D), ("withdrawn_on", _D),
      ("mechanism", ("double_opt_in", "ticked_box", "written", "pre_ticked_box", "silence", "inactivity",
                     "browser_setting", "purchased_list", "imported_list", "bundled_with_terms", "unknown")))),
    ("objections", frozenset(("kind", "received_on", "withdrawn_on", "compelling_grounds_on")), ("kind", "received_on"),
     (("kind", ("art21_1", "art21_2")), ("received_on", _D), ("withdrawn_on", _D), ("compelling_grounds_on", _D))),
    ("restrictions", frozenset(("requested_on", "lifted_on", "ground")), ("requested_on",),
     (("requested_on", _D), ("lifted_on", _D), ("ground", ("art18_1_a", "art18_1_b", "art18_1_c", "art18_1_d")))),
    ("erasure_requests", frozenset(("received_on", "verified_on", "answered_on", "compelling_grounds_on", "extended_on")),
     ("received_on",),
     (("received_on", _D), ("verified_on", _D), ("answered_on", _D), ("compelling_grounds_on", _D),
      ("extended_on", _D))),
    ("rights_requests", frozenset(("kind", "received_on", "verified_on", "answered_on", "extended_on")),
     ("kind", "received_on"),
     (("kind", ("access", "rectification", "erasure", "restriction", "objection", "portability")),
      ("received_on", _D), ("verified_on", _D), ("answered_on", _D), ("extended_on", _D))),
    ("legal_holds", frozenset(("placed_on", "released_on", "matter", "scopes")), ("placed_on",),
     (("placed_on", _D), ("released_on", _D), ("matter", _S), ("scopes", _SCOPES))),
    ("disclosure_orders", frozenset(("recipient", "received_on", "binding", "reference")),
     ("binding", "received_on", "recipient"),
     (("recipient", _RECIPIENTS), ("received_on", _D), ("binding", _B), ("reference", _S))),
    ("vouchers", frozenset(("fiscal_year", "fiscal_year_end")), ("fiscal_year",),
     (("fiscal_year", _I), ("fiscal_year_end", _D))),
)
_ROLES = ("controller", "processor")
_KINDS_ADDR = ("personal", "impersonal")
_DATE_OK: dict[str, bool] = {}


def _date_ok(v: Any) -> bool:
    """A real day written YYYY-MM-DD (memoised: a sweep sees a few thousand distinct days)."""
    if type(v) is not str:
        return False
    ok = _DATE_OK.get(v)
    if ok is None:
        ok = len(v) == 10 and v[4] == "-" and v[7] == "-"
        if ok:
            try:
                date.fromisoformat(v)
            except ValueError:
                ok = False
        if len(_DATE_OK) > 100_000:
            _DATE_OK.clear()
        _DATE_OK[v] = ok
    return ok


def _kind_ok(v: Any, kind: Any) -> bool:
    if kind == _D:
        return _date_ok(v)
    if kind == _S:
        return isinstance(v, str)
    if kind == _B:
        return isinstance(v, bool)
    if kind == _I:
        return isinstance(v, int) and not isinstance(v, bool) and 1900 <= v <= 2200
    if kind is _SCOPES:  # a hold's scopes: a list of scope ids
        return isinstance(v, (list, tuple)) and all(isinstance(x, str) and x in kind for x in v)
    return isinstance(v, str) and v in kind


def _is_map(x: Any) -> bool:
    # type() first: isinstance against typing.Mapping costs ~2 us, against the ABC ~0.3 us
    return type(x) is dict or isinstance(x, _AbcMapping)


def record_ok(r: Any) -> bool:
    """True when the record is well-formed canonical data (the checks of docs section 4)."""
    if not _is_map(r):
        return False
    rid = r.get("id")
    if not isinstance(rid, str) or not rid or len(rid) > 200 or not _TOP.issuperset(r):
        return False
    v = r.get("role")
    if v is not None and v not in _ROLES:
        return False
    v = r.get("contact_address_kind")
    if v is not None and v not in _KINDS_ADDR:
        return False
    v = r.get("source")
    if v is not None and v not in _SOURCES:
        return False
    v = r.get("art14_informed_on")
    if v is not None and not _date_ok(v):
        return False
    rel = r.get("relationship")
    if rel is not None:
        if not _is_map(rel) or not _REL.issuperset(rel):
            return False
        for v in rel.values():
            if v is not None and _DATE_OK.get(v) is not True and not _date_ok(v):
                return False
    for name, known in (("subject_categories", _SUBJECTS), ("data_categories", _CATEGORIES), ("systems", None)):
        v = r.get(name)
        if v is not None:
            if type(v) is not list and not isinstance(v, (list, tuple)):
                return False
            for x in v:
                if (type(x) is not str and not isinstance(x, str)) or not x or (known is not None and x not in known):
                    return False
    v = r.get("facts")
    if v is not None:
        if not _is_map(v):
            return False
        for k, x in v.items():
            if k not in _FACTS or (x is not None and not isinstance(x, (str, int, float, bool))):
                return False
    v = r.get("host")
    if v is not None and not _is_map(v):
        return False
    for name, allowed, required, kinds in _LISTS:
        items = r.get(name)
        if items is None:
            continue
        if (type(items) is not list and not isinstance(items, (list, tuple))) or len(items) > 10_000:
            return False
        for e in items:
            if not _is_map(e) or not allowed.issuperset(e):
                return False
            for k in required:
                if e.get(k) is None:
                    return False
            for k, kind in kinds:
                x = e.get(k)
                if x is not None:
                    if kind is _D:
                        if _DATE_OK.get(x) is not True and not _date_ok(x):  # memo hit inline
                            return False
                    elif not _kind_ok(x, kind):
                        return False
    return True


def _hubspot_share_base(a: str) -> bool:
    """share.processor-dpa-transfer for HubSpot on day a: DPA in force and a transfer lawful.

    pack.yaml: DPA signed 2018-05-25, no end; transfers Privacy Shield 2018-05-25..2020-07-15
    (mechanism valid until 2020-07-15), SCCs from 2018-05-25, DPF from 2023-07-10 (valid from
    2023-07-10)."""
    dpa = "2018-05-25" <= a
    transfer = ("2018-05-25" <= a <= "2020-07-15") or "2018-05-25" <= a or "2023-07-10" <= a
    return dpa and transfer


def make_hand(as_of: date, *, validate: bool = True) -> Callable[[Mapping[str, Any]], tuple[str, str, str]]:
    """A function record -> (keep, contact:newsletter:email, share:hubspot:relationship_management).

    Written from rules/iconfirm/{keep,contact,share,processor}.yaml (pack 1.2.0) and the
    combining order of docs/rule-language.md section 3 (override > forbid > permit > no basis;
    a forbid or override that is *unknown* blocks an allow; three-valued AND/OR/NOT).
    ``validate=False`` skips the record check: faster, and wrong only on malformed records.
    """
    A = as_of.isoformat()
    C24 = iso_cutoff(as_of, 24)  # prospect, downloader
    C36 = iso_cutoff(as_of, 36)  # customer_tail, cooperation_tail, role_tail, knowledge_network
    SHARE_BASE = _hubspot_share_base(A)
    UUU = (UND, UND, UND)
    EMPTY: Mapping[str, Any] = {}
    check = record_ok

    def decide3(r: Mapping[str, Any]) -> tuple[str, str, str]:
        if validate and not check(r):
            return UUU
        role = r.get("role")
        if role == "processor":
            # processor.yaml: keep.processor-instructions (permit), keep.processor-legal-storage
            # (override: legal hold), keep.processor-deletion-instructed (forbid: facts date
            # happened; a malformed date is unknown); contact.processor-no-own-purposes and
            # share.processor-own-purposes (forbid, unconditional)
            return (_processor_keep(r, A), DENY, DENY)
        nl = False  # a live newsletter consent (R20: the withdrawal day counts as withdrawn)
        for e in r.get("consents") or ():
            if e["purpose"] == "newsletter" and e["given_on"] <= A:
                w = e.get("withdrawn_on")
                if w is None or w > A:
                    nl = True
                    break
        if role is None:
            # every rule is unknown in role (file-level `role: controller` / `role: processor`);
            # no forbid can hold. keep: keep.processor-instructions could hold -> undetermined.
            # contact: only contact.newsletter-consent could permit. share: the DPA/transfer
            # permit could hold only when the HubSpot DPA and a transfer are valid on the day.
            return (UND, UND if nl else DENY, UND if SHARE_BASE else DENY)
        verified = granted = False  # erasure: verified / granted (R16: no compelling grounds by as_of)
        for e in r.get("erasure_requests") or ():
            v = e.get("verified_on")
            if v is not None and v <= A:
                verified = True
                g = e.get("compelling_grounds_on")
                if g is None or g > A:
                    granted = True
        restricted = restricted_bc = restricted_d = False  # active restrictions, by Art. 18(1) ground
        began = ""  # the latest request of an active restriction (R6: a consent after it counts)
        for e in r.get("restrictions") or ():
            if e["requested_on"] <= A:
                v = e.get("lifted_on")
                if v is None or v > A:
                    restricted = True
                    if e["requested_on"] > began:
                        began = e["requested_on"]
                    v = e.get("ground")
                    if v == "art18_1_c" or v == "art18_1_b":
                        restricted_bc = True
                    elif v == "art18_1_d":
                        restricted_d = True
        obj1 = obj2 = False
        for e in r.get("objections") or ():
            if e["received_on"] > A:
                continue
            v = e.get("withdrawn_on")
            if v is not None and v <= A:
                continue
            if e["kind"] == "art21_2":
                obj2 = True
            else:
                v = e.get("compelling_grounds_on")
                if v is None or v > A:
                    obj1 = True
        hold = False  # keep.legal-hold for the default scope (a hold naming scopes covers only those)
        for e in r.get("legal_holds") or ():
            if e["placed_on"] <= A:
                v = e.get("released_on")
                if v is None or v > A:
                    s = e.get("scopes")
                    if s is None or "relationship_record" in s:
                        hold = True

        # contact:newsletter:email - permit contact.newsletter-consent; forbid contact.erasure-
        # verified / contact.erasure-direct-marketing (any verified erasure), contact.restriction,
        # contact.direct-marketing-objection, contact.newsletter-consent-withdrawn (only when no
        # consent is live, so it never decides anything the missing permit does not)
        # contact.unsubscribed-from-all-email (forbid; an absent flag reads as false, another
        # kind than boolean is unknown and blocks the permit)
        facts = r.get("facts") or EMPTY
        unsub = facts.get("unsubscribed_from_all_email")
        # contact.restriction yields to a live newsletter consent given after the restriction
        # was requested (Art. 18(2), R6: consent_for_question: since_restriction)
        nl_after = restricted and any(
            e["purpose"] == "newsletter" and began < e["given_on"] <= A
            and (e.get("withdrawn_on") is None or e["withdrawn_on"] > A) for e in r.get("consents") or ())
        if not nl or verified or (restricted and not nl_after) or obj2 or unsub is True:
            contact = DENY
        else:
            contact = ALLOW if unsub is None or unsub is False else UND

        rel = r.get("relationship") or EMPTY
        subj = r.get("subject_categories")
        fc = rel.get("first_contact_on")
        dl = rel.get("downloaded_on")
        ce = rel.get("customer_ended_on")
        co = rel.get("cooperation_ended_on")
        re_ = rel.get("role_ended_on")
        la = rel.get("last_activity_on")
        role_ended = re_ is not None and re_ <= A  # happened: absent or future = not happened
        in_ct = ce is None or ce > A or ce >= C36  # open_if_absent windows: absent or future = open
        in_co = co is None or co > A or co >= C36
        in_rt = role_ended and re_ >= C36  # role_tail, when the role has ended
        w_fc = None if fc is None else (fc <= A and fc >= C24)  # within: absent = unknown, future = False
        w_dl = None if dl is None else (dl <= A and dl >= C24)
        w_la = None if la is None else (la <= A and la >= C36)
        # R1 (READINGS #24): for a prospect, a download counts as a new first contact only after
        # the prospect window's last day: `compare: downloaded_on after {window_end: prospect}`
        # (unknown when either day is absent; the permits read an absent one as true)
        # (runtime.wend: a first contact after as_of has no window end yet, so it is absent too)
        cmp_dl = (None if fc is None or dl is None or fc > A
                  else dl > window_end(date.fromisoformat(fc), 24).isoformat())
        # R1 (READINGS #41): contact started again after the prospect window is a new first
        # contact: `compare: inbound_request_on after {window_end: prospect}` (if_absent: false)
        # and `within: renewed_contact` (24 months from the request)
        ir = rel.get("inbound_request_on")
        renewed = (fc is not None and ir is not None and ir > window_end(date.fromisoformat(fc), 24).isoformat()
                   and ir <= A and ir >= C24)
        # ... and for a downloader (not a prospect), after the download window (R18)
        renewed_d = (dl is not None and ir is not None and ir > window_end(date.fromisoformat(dl), 24).isoformat()
                     and ir <= A and ir >= C24)
        # R18, R1 (READINGS #47): a download before the first sales contact was the first
        # contact; a sales contact on or before the download window's last day does not start a
        # later 24 months: keep.prospect-window needs `not downloader`, or not `first_contact_on
        # after downloaded_on` (if_absent: false), or `first_contact_on after {window_end:
        # downloader}` (if_absent: true; no window end yet for a download after as_of)
        fc_after_dl = fc is not None and dl is not None and fc > dl
        fc_after_dl_end = (fc is None or dl is None or dl > A
                           or fc > window_end(date.fromisoformat(dl), 24).isoformat())
        # and keep.downloader-window also holds for a download before the first contact
        dl_first = fc is not None and dl is not None and dl < fc
        # N27 (READINGS #42): an end before customer_since belongs to an earlier relationship
        cs = rel.get("customer_since")
        resigned = ce is not None and cs is not None and cs <= A and ce < cs  # `happened: customer_since` too

        # ---- keep (relationship_record)
        # override keep.legal-hold, keep.restriction-storage (18(1)(b)/(c)) > forbid
        # keep.erasure-verified (granted, or verified and not customer/partner),
        # keep.general-objection (21(1) unless an 18(1)(d) restriction is pending),
        # keep.prospect-direct-marketing-objection > permit each category's window > no basis
        if subj is not None:
            hc = "customer" in subj
            hp = "partner" in subj
            hpr = "prospect" in subj
            hd = "material_downloader" in subj
            hk = "privacy_professional" in subj
            t_c = hc and not role_ended and in_ct          # keep.customer-relationship
            t_p = hp and not role_ended and in_co          # keep.partner-cooperation
            t_r = (hc or hp) and in_rt and in_ct and in_co  # keep.former-contact-person
            t_rs = hc and not role_ended and resigned      # keep.customer-resigned
            d_ok = not hpr or cmp_dl is not False or dl_first  # the downloader window counts (R1, #47)
            pr_ok = not hd or not fc_after_dl or fc_after_dl_end  # the prospect window counts (#47)
            if hold or restricted_bc:
                keep = ALLOW
            elif granted or (verified and not (hc or hp)) or (obj1 and not restricted_d) or \
                    (obj2 and (hpr or hd) and not (hc or hp or hk)):
                keep = DENY
            elif t_c or t_p or t_r or t_rs or (not obj2 and ((hpr and w_fc and pr_ok) or (hpr and renewed) or (hd and not hpr and renewed_d) or (hd and w_dl and d_ok))) \
                    or (hk and w_la):
                keep = ALLOW
            elif (not obj2 and ((hpr and w_fc is None and pr_ok) or (hd and w_dl is None))) or (hk and w_la is None):
                keep = UND
            else:
                keep = DENY
        else:  # categories unknown: no permit can hold; undetermined if one could
            if hold or restricted_bc:
                keep = ALLOW
            elif granted or (obj1 and not restricted_d):
                keep = DENY
            elif (not role_ended and (in_ct or in_co or resigned)) or (in_rt and in_ct and in_co) or \
                    (not obj2 and (w_fc is not False or w_dl is not False or renewed or renewed_d)) or w_la is not False:
                keep = UND
            else:
                keep = DENY

        # ---- share:hubspot:relationship_management
        # permit share.processor-dpa-transfer (DPA in force, transfer lawful, HubSpot serves the
        # purpose). forbid: share.erasure-verified / share.erasure-marketing-and-consent (any
        # verified erasure), share.restriction, share.general-objection, share.direct-marketing-
        # objection, share.processor-without-dpa / share.transfer-without-mechanism,
        # share.record-not-kept (keep not allowed; unknown when keep is undetermined),
        # share.sales-window-expired / downloader-window-expired / sales-windows-expired (pure
        # prospects and downloaders: both windows closed), share.relationship-purpose-not-live
        # (everyone else: a customer/partner/role-tail, prospect or downloader window is live).
        # Any forbid true -> deny; else any forbid unknown -> undetermined; else allow.
        if verified or restricted or obj1 or obj2 or not SHARE_BASE or keep == DENY:
            share = DENY
        elif subj is None:
            # share.relationship-purpose-not-live is `not(pure) and not(live)` with every subject
            # test unknown: unknown whatever the dates, so at best undetermined
            share = UND
        else:
            if not (hc or hp) and (hpr or hd):  # pure prospect / downloader: the sales-window rules
                e_fc = None if fc is None else (fc <= A and fc < C24)  # expired: absent = unknown
                e_dl = None if dl is None else (dl <= A and dl < C24)
                if hpr and hd:  # expired prospect AND (expired downloader OR NOT compare), Kleene
                    alt = True if (e_dl or cmp_dl is False) else (False if (e_dl is False and cmp_dl) else None)
                    f = False if (e_fc is False or alt is False) else (True if (e_fc and alt) else None)
                    if renewed:  # R1 (READINGS #41): share.sales-windows-expired gives way
                        f = False
                else:  # share.sales-window-expired gives way to a renewed contact (R1)
                    f = (False if renewed else e_fc) if hpr else (False if renewed_d else e_dl)
            else:  # share.relationship-purpose-not-live: forbid = not(live)
                # (this rule's live list has the prospect and downloader windows without #47's tests)
                if t_c or t_p or t_r or t_rs or (hpr and w_fc) or (hd and w_dl and (not hpr or cmp_dl is not False)):
                    f = False
                elif (hpr and w_fc is None) or (hd and w_dl is None):
                    f = None
                else:
                    f = True
            if f:
                share = DENY
            elif f is None or keep == UND:
                share = UND
            else:
                share = ALLOW
        return (keep, contact, share)

    return decide3


def _processor_keep(r: Mapping[str, Any], A: str) -> str:
    """keep for a processor-role record (processor.yaml)."""
    for e in r.get("legal_holds") or ():  # keep.processor-legal-storage (override)
        if e["placed_on"] <= A:
            v = e.get("released_on")
            if v is None or v > A:
                s = e.get("scopes")
                if s is None or "relationship_record" in s:
                    return ALLOW
    facts = r.get("facts")
    d = facts.get("deletion_instructed_on") if facts else None
    if d is None:
        return ALLOW  # keep.processor-instructions
    if not _date_ok(d):
        return UND  # the forbid is unknown: it blocks the permit
    return DENY if d <= A else ALLOW


def _undate(rec: Any) -> Any:
    """``rec`` with each relationship day written as known only on or before that day."""
    if not isinstance(rec, dict) or not isinstance(rec.get("relationship"), dict):
        return rec
    rel = {k: ({"on_or_before": v} if isinstance(v, str) else v) for k, v in rec["relationship"].items()}
    return {**rec, "relationship": rel}


def hand_outcomes(records: Iterable[Mapping[str, Any]], as_of: date = AS_OF, *,
                  validate: bool = True) -> list[tuple[str, str, str]]:
    f = make_hand(as_of, validate=validate)
    return [f(r) for r in records]


def engine_outcomes(policy: privacy_rules.Policy, records: Iterable[Any], as_of: date = AS_OF) -> list[tuple[str, ...]]:
    return [tuple(a.outcome for a in row.answers) for row in policy.decide_batch(records, QUESTIONS, as_of=as_of)]


def disagreements(records: Sequence[Mapping[str, Any]], hand: Sequence[tuple[str, ...]],
                  engine: Sequence[tuple[str, ...]]) -> list[tuple[str, str, str, str]]:
    """(record id, question, hand, engine) for every answer where the two differ."""
    out = []
    for rec, h, e in zip(records, hand, engine):
        if h != e:
            rid = rec.get("id") if isinstance(rec, Mapping) else None
            out.extend((str(rid), QUESTION_TEXTS[k], h[k], e[k]) for k in range(len(h)) if h[k] != e[k])
    return out


# ============================================================================================
# Timing helpers
# ============================================================================================

_CPU_WALL = [0.0, 0.0]  # process CPU seconds and wall seconds over every timed run


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """(median s, best s, result of the warm-up run). One untimed warm-up, then ``repeats`` runs."""
    result = fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        _CPU_WALL[0] += time.process_time() - c0
        _CPU_WALL[1] += times[-1]
    return statistics.median(times), min(times), result


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def _fmt_rate(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def _fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"{r:,.3f}x" if r < 10 else f"{r:,.1f}x"


def _say(*parts: Any) -> None:
    print(*parts, flush=True)


# ============================================================================================
# The pieces of the run
# ============================================================================================

def machine_info() -> list[str]:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    commit = "?"
    try:  # read-only
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        load = "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = ""
    return [
        f"python     {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        f"platform   {platform.platform()}",
        f"cpu        {cpu or '?'}; os.cpu_count() = {os.cpu_count()}, usable = {usable}; {load}",
        f"library    privacy_rules from {Path(privacy_rules.__file__).parent}, git HEAD {commit}",
    ]


def time_load_compile(repeats: int = 5) -> dict[str, float]:
    def load() -> Any:
        return privacy_rules.load_pack(PACK_DIR)

    def load_uncached() -> Any:
        return privacy_rules.check_pack(PACK_DIR, lint=False, cache=False)[0]

    pack = load()  # also puts the pack's files into the cache of checked files
    load_compile, uncached, compile_only, compile_plans = [], [], [], []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        p = privacy_rules.compile_pack(load())
        load_compile.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        privacy_rules.compile_pack(load_uncached())
        uncached.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        privacy_rules.compile_pack(pack)
        compile_only.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        p = privacy_rules.compile_pack(pack)
        for q in QUESTIONS:  # plans compile lazily on first use; force them
            p.decide({"id": "warm"}, q, as_of=AS_OF)
        compile_plans.append(time.perf_counter() - t0)
    return {"load_compile_ms": 1e3 * statistics.median(load_compile),
            "load_compile_uncached_ms": 1e3 * statistics.median(uncached),
            "compile_ms": 1e3 * statistics.median(compile_only),
            "compile_plans_ms": 1e3 * statistics.median(compile_plans)}


def time_cold_start(cache: str) -> float | None:
    """ms (median of 3) for a fresh interpreter to import privacy_rules, load and compile the
    pack; ``cache`` is PRIVACY_RULES_CACHE_DIR for it (``off``, or a directory: primed first)."""
    code = ("import time; t=time.perf_counter(); import privacy_rules as p; "
            f"p.compile_pack(p.load_pack({str(PACK_DIR)!r})); print((time.perf_counter()-t)*1e3)")
    env = dict(os.environ, PRIVACY_RULES_CACHE_DIR=cache)
    try:
        runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                               check=True, env=env) for _ in range(4)]
        return statistics.median(float(out.stdout.strip().splitlines()[-1]) for out in runs[1:])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def durable_policy(pack: Any) -> tuple[Any, str | None]:
    """(DurablePolicy or None, reason it is skipped)."""
    try:
        from privacy_rules.engines.durable import DurablePolicy  # type: ignore[import-not-found]
    except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
        return None, f"privacy_rules.engines.durable does not import: {type(exc).__name__}: {exc}"
    try:
        return DurablePolicy(pack), None
    except Exception as exc:  # noqa: BLE001
        return None, f"DurablePolicy(pack) failed: {type(exc).__name__}: {exc}"


def durable_source_note() -> str:
    """Which durable.py was measured: its sha256 and whether it differs from git HEAD (read-only git)."""
    path = ROOT / "src" / "privacy_rules" / "engines" / "durable.py"
    mod = sys.modules.get("privacy_rules.engines.durable")
    if mod is not None and getattr(mod, "__file__", None):
        path = Path(mod.__file__)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return f"{path.name}: not readable"
    state = "?"
    try:
        rc = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", str(path)],
                            capture_output=True, timeout=10, check=False).returncode
        state = {0: "as in git HEAD", 1: "uncommitted changes vs git HEAD"}.get(rc, "?")
    except (OSError, subprocess.SubprocessError):
        pass
    return f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} sha256 {digest} ({state})"


def _outcome_text(d: Any) -> str:
    o = getattr(d, "outcome", d)
    return getattr(o, "value", o)


def write_jsonl(path: Path, m: int, seed: int) -> float:
    t0 = time.perf_counter()
    dumps = json.dumps
    with open(path, "w", encoding="utf-8") as fh:
        buf = []
        for rec in iter_records(m, seed, AS_OF):
            buf.append(dumps(rec, separators=(",", ":")))
            if len(buf) >= 10_000:
                fh.write("\n".join(buf) + "\n")
                buf.clear()
        if buf:
            fh.write("\n".join(buf) + "\n")
    return time.perf_counter() - t0


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("privacy-rules")
    if script.exists():
        return [str(script)]
    found = shutil.which("privacy-rules")
    return [found] if found else [sys.executable, "-m", "privacy_rules"]


def run_evaluate(infile: Path, outfile: Path, workdir: Path) -> dict[str, Any]:
    """privacy-rules evaluate in a child process: wall time, exit code, peak RSS of that child."""
    # ~1% of the generated records are malformed on purpose: --max-bad 100% keeps the run going
    cmd = _cli_command() + ["evaluate", str(PACK_DIR), str(infile), "--as-of", AS_OF.isoformat(), "-o",
                            str(outfile), "--no-progress", "--max-bad", "100%"]
    for q in QUESTION_TEXTS:
        cmd += ["-q", q]
    timefile = workdir / "time.txt"
    gnu_time = Path("/usr/bin/time")
    # RUSAGE_CHILDREN of *this* process would be polluted: on Linux a forked child's peak RSS
    # starts from this (large) parent's RSS, carried over at exec. So measure through a small
    # intermediary: GNU time, else a tiny Python that reports its own RUSAGE_CHILDREN.
    if gnu_time.exists():
        full = [str(gnu_time), "-v", "-o", str(timefile)] + cmd
        how = "/usr/bin/time -v (Maximum resident set size)"
    else:
        helper = ("import resource,subprocess,sys; rc=subprocess.call(sys.argv[1:]); "
                  f"open({str(timefile)!r},'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
                  "sys.exit(rc)")
        full = [sys.executable, "-c", helper] + cmd
        how = "getrusage(RUSAGE_CHILDREN).ru_maxrss in a small helper process"
    t0 = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak_kib = None
    try:
        text = timefile.read_text()
        if gnu_time.exists():
            for line in text.splitlines():
                if "Maximum resident set size" in line:
                    peak_kib = int(line.rsplit(":", 1)[1])
        else:
            peak_kib = int(text.strip())
    except (OSError, ValueError):
        pass
    return {"cmd": cmd, "wall": wall, "rc": proc.returncode, "stderr": proc.stderr, "peak_kib": peak_kib, "how": how}


def check_cli_output(outfile: Path, records: Sequence[Mapping[str, Any]],
                     batch: Sequence[tuple[str, ...]]) -> tuple[int, int, int]:
    """(lines in OUT, lines compared with the in-memory batch answers, disagreements)."""
    lines = compared = bad = 0
    with open(outfile, encoding="utf-8") as fh:
        for line in fh:
            if lines < len(batch):
                row = json.loads(line)
                got = tuple(a["outcome"] for a in row["answers"])
                compared += 1
                if got != batch[lines] or row["record_id"] != records[lines].get("id"):
                    bad += 1
            lines += 1
    return lines, compared, bad


def _profile(fn: Callable[[], Any], top: int) -> str:
    fn()  # warm-up
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def run_profile(k: int, seed: int, top: int = 15) -> None:
    """cProfile of the batch path, the per-record path and pack loading (no timings asserted)."""
    records = generate_records(k, seed, AS_OF)
    policy = privacy_rules.compile_pack(privacy_rules.load_pack(PACK_DIR))
    decide = policy.decide

    def batch() -> None:
        collections.deque(policy.decide_batch(records, QUESTIONS, as_of=AS_OF), maxlen=0)

    def per_record() -> None:
        for rec in records:
            for q in QUESTIONS:
                decide(rec, q, as_of=AS_OF)

    _say(f"[profile] cProfile, {k:,} records x {len(QUESTIONS)} questions, as_of {AS_OF}; top {top} by tottime "
         "(cProfile adds a fixed cost per call, so call-heavy code looks slower than it is)")
    _say(f"\n--- decide_batch ---\n{_profile(batch, top)}")
    _say(f"--- decide per record and question (explained) ---\n{_profile(per_record, top)}")
    prepared = [policy.prepare(rec) for rec in records]

    def prepared_all() -> None:
        for rec in prepared:
            policy.decide_all(rec, QUESTIONS, as_of=AS_OF)

    def prepared_all_json() -> None:
        for rec in prepared:
            for d in policy.decide_all(rec, QUESTIONS, as_of=AS_OF):
                d.to_json()

    _say(f"--- decide_all over prepared records (lazy explanations, not read) ---\n{_profile(prepared_all, top)}")
    _say(f"--- decide_all over prepared records, every explanation read (to_json) ---\n"
         f"{_profile(prepared_all_json, top)}")
    _say(f"--- load_pack + compile_pack ---\n"
         f"{_profile(lambda: privacy_rules.compile_pack(privacy_rules.load_pack(PACK_DIR)), top)}")


# ============================================================================================
# main
# ============================================================================================

def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=None, help="N synthetic records (default 100000; --quick 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="smoke run: N=2000, M=20000, 1 repeat")
    ap.add_argument("--jsonl-lines", type=int, default=None, help="M lines for `evaluate` (default 1000000; --quick 20000); 0 skips")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs after the warm-up (default 3; --quick 1)")
    ap.add_argument("--durable-records", type=int, default=None, help="records for the durable engine (default 2000; --quick 200)")
    ap.add_argument("--profile", type=int, default=0, metavar="K",
                    help="instead of the benchmark: cProfile decide_batch, per-record decide and pack loading "
                         "over K records and print the top 15 functions by tottime")
    ap.add_argument("--keep-files", action="store_true", help="keep the generated JSONL and output files")
    args = ap.parse_args(argv)
    n = args.records if args.records is not None else (2_000 if args.quick else 100_000)
    m = args.jsonl_lines if args.jsonl_lines is not None else (20_000 if args.quick else 1_000_000)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    nd = args.durable_records if args.durable_records is not None else (200 if args.quick else 2_000)
    nq = len(QUESTIONS)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    if args.profile:
        run_profile(args.profile, args.seed)
        return 0

    _say(f"privacy-rules benchmark - {started}")
    _say("command: python " + " ".join([os.path.relpath(__file__, os.getcwd())] + list(argv if argv is not None else sys.argv[1:])))
    for line in machine_info():
        _say("  " + line)
    _say(f"  as_of {AS_OF}; questions {', '.join(QUESTION_TEXTS)}; N = {n:,} records, seed {args.seed}; "
         f"median of {repeats} timed run(s) after a warm-up")

    # ---- e. load + compile (first, while the process is small)
    lc = time_load_compile(5)
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as primed:
        cold = time_cold_start(primed)
    cold_off = time_cold_start("off")

    def ms(v: float | None) -> str:
        return f"{v:.0f} ms" if v is not None else "n/a"

    _say(f"\n[e] load_pack + compile_pack: {lc['load_compile_ms']:.1f} ms (median of 5; files from the cache of "
         f"checked files), {lc['load_compile_uncached_ms']:.1f} ms without it; compile_pack only: "
         f"{lc['compile_ms']:.2f} ms; compile_pack + plans of the 3 questions: {lc['compile_plans_ms']:.2f} ms; "
         f"fresh process (import + load + compile): {ms(cold)} with the cache primed, {ms(cold_off)} without")
    pack = privacy_rules.load_pack(PACK_DIR)
    policy = privacy_rules.compile_pack(pack)
    _say(f"    pack {pack.id} {pack.version}: {len(pack.rules)} rules")

    # ---- 1. records
    t0 = time.perf_counter()
    records = generate_records(n, args.seed, AS_OF)
    gen_s = time.perf_counter() - t0
    mix = collections.Counter()
    for rec in records:
        for c in (rec.get("subject_categories") or ["(none)"]) if isinstance(rec.get("subject_categories"), list) else ["(bad)"]:
            mix[c] += 1
    _say(f"\n[1] generated {n:,} records in {gen_s:.2f} s; subject categories: "
         + ", ".join(f"{k} {v:,}" for k, v in mix.most_common()))

    results: dict[str, float | None] = {}

    # ---- a. batch
    def batch_run() -> list[tuple[str, ...]]:
        return [tuple(a.outcome for a in row.answers) for row in policy.decide_batch(records, QUESTIONS, as_of=AS_OF)]

    def batch_consume() -> None:
        collections.deque(policy.decide_batch(records, QUESTIONS, as_of=AS_OF), maxlen=0)

    batch_out = batch_run()  # also the warm-up
    med, best, _ = _timed(batch_consume, repeats)
    results["batch"] = _rate(n * nq, med)
    results["batch_best"] = _rate(n * nq, best)
    per_q = [collections.Counter(o[k] for o in batch_out) for k in range(nq)]
    problems = sum(1 for row in policy.decide_batch(records, QUESTIONS, as_of=AS_OF) if row.problem)
    _say(f"\n[a] decide_batch: {results['batch']:,.0f} decisions/s (median {med:.3f} s; best {results['batch_best']:,.0f}/s); "
         f"records with a problem: {problems:,}")
    for k, q in enumerate(QUESTION_TEXTS):
        _say(f"    {q:40s} " + ", ".join(f"{o} {per_q[k][o]:,}" for o in (ALLOW, DENY, UND)))

    # ---- a2. the same records with undated days ({"on_or_before": D}, docs/rule-language.md), and
    # a3. the retention plan (`evaluate --plan`: keep of every scope of the `sweep` set per record)
    undated = [_undate(r) for r in records]
    med, _, _ = _timed(lambda: collections.deque(policy.decide_batch(undated, QUESTIONS, as_of=AS_OF), maxlen=0), repeats)
    results["batch_undated"] = _rate(n * nq, med)
    _say(f"\n[a2] decide_batch with every relationship day undated ({{\"on_or_before\": D}}): "
         f"{results['batch_undated']:,.0f} decisions/s = {_fmt_ratio(results['batch_undated'], results['batch'])} "
         "of the exact-date rate (interval semantics: each window decided at both ends of [1900-01-01, D])")
    from privacy_rules.retention import plan_questions, plan_results
    from privacy_rules.pipeline import Item
    sweep = plan_questions(policy)
    items = [Item(i + 1, "bench", None, r) for i, r in enumerate(records)]
    med, _, _ = _timed(lambda: collections.deque(plan_results(policy, items, sweep, as_of=AS_OF), maxlen=0), repeats)
    results["plan"] = _rate(n, med)
    med_k, _, _ = _timed(lambda: collections.deque(policy.decide_batch(records, sweep, as_of=AS_OF), maxlen=0), repeats)
    _say(f"[a3] retention plan ({len(sweep)} keep scopes of the sweep set): {results['plan']:,.0f} records/s; "
         f"decide_batch of the same {len(sweep)} questions: {_rate(n, med_k):,.0f} records/s "
         f"(plan / batch = {_fmt_ratio(results['plan'], _rate(n, med_k))})")

    # ---- b. per record, explained
    decide = policy.decide

    def per_record() -> None:
        for rec in records:
            for q in QUESTIONS:
                decide(rec, q, as_of=AS_OF)

    med, best, _ = _timed(per_record, repeats)
    results["per_record"] = _rate(n * nq, med)
    results["per_record_best"] = _rate(n * nq, best)
    _say(f"\n[b] decide (explained Decision) per record and question: {results['per_record']:,.0f} decisions/s "
         f"(median {med:.3f} s; best {results['per_record_best']:,.0f}/s)")
    decide_all = policy.decide_all

    def per_record_all() -> None:
        for rec in records:
            decide_all(rec, QUESTIONS, as_of=AS_OF)

    med, best, _ = _timed(per_record_all, repeats)
    results["decide_all"] = _rate(n * nq, med)
    _say(f"    decide_all (3 explained Decisions per call): {results['decide_all']:,.0f} decisions/s (median {med:.3f} s)")
    # issue 12: the record checked once (Policy.prepare, not timed), then decided; Decisions are
    # lazy (explanation built on first read), so the last line reads every one's JSON too
    prepared = [policy.prepare(rec) for rec in records]

    def prepared_all() -> None:
        for rec in prepared:
            decide_all(rec, QUESTIONS, as_of=AS_OF)

    def prepared_one() -> None:
        for rec in prepared:
            for q in QUESTIONS:
                decide(rec, q, as_of=AS_OF)

    def prepared_all_json() -> None:
        for rec in prepared:
            for d in decide_all(rec, QUESTIONS, as_of=AS_OF):
                d.to_json()

    med, _, _ = _timed(prepared_all, repeats)
    results["decide_all_prepared"] = _rate(n * nq, med)
    med, _, _ = _timed(prepared_one, repeats)
    results["decide_prepared"] = _rate(n * nq, med)
    med, _, _ = _timed(prepared_all_json, repeats)
    results["decide_all_prepared_json"] = _rate(n * nq, med)
    _say(f"    over prepared records (Policy.prepare): decide_all {results['decide_all_prepared']:,.0f} decisions/s; "
         f"decide {results['decide_prepared']:,.0f}/s; decide_all reading every explanation (to_json) "
         f"{results['decide_all_prepared_json']:,.0f}/s")
    # spot check: the explained path agrees with the batch path
    step = max(1, n // 5000)
    mism = [(records[i]["id"] if isinstance(records[i], dict) else i, QUESTION_TEXTS[k]) for i in range(0, n, step)
            for k, q in enumerate(QUESTIONS) if _outcome_text(decide(records[i], q, as_of=AS_OF)) != batch_out[i][k]]
    _say(f"    decide vs decide_batch outcomes on {len(range(0, n, step)):,} records: {len(mism)} differ"
         + (f", e.g. {mism[:3]}" if mism else ""))

    # ---- c. durable
    dpol, reason = durable_policy(pack)
    results["durable"] = None
    durable_note = ""
    if dpol is None:
        durable_note = f"durable: skipped ({reason})"
        _say(f"\n[c] {durable_note}\n    source: {durable_source_note()}")
    else:
        sub = records[:nd]
        try:
            for rec in sub[:20]:  # warm-up: rulesets are built on first use
                for q in QUESTIONS:
                    dpol.decide(rec, q, as_of=AS_OF)

            def durable_run() -> list[tuple[str, ...]]:
                return [tuple(_outcome_text(dpol.decide(rec, q, as_of=AS_OF)) for q in QUESTIONS) for rec in sub]

            med, best, dout = _timed(durable_run, max(1, min(repeats, 2)))
            results["durable"] = _rate(len(sub) * nq, med)
            dis = disagreements(sub, dout, batch_out[:nd])
            _say(f"\n[c] durable engine (DurablePolicy.decide, {len(sub):,} records x {nq}): {results['durable']:,.0f} decisions/s "
                 f"(median {med:.3f} s); disagreements with decide_batch: {len(dis):,}")
            _say(f"    measured {durable_source_note()}")
            for d in dis[:5]:
                _say(f"    {d[0]} {d[1]}: durable {d[2]}, batch {d[3]}")
        except Exception as exc:  # noqa: BLE001 - a crashing optional engine must not end the run
            durable_note = f"durable: skipped (failed while deciding: {type(exc).__name__}: {exc})"
            results["durable"] = None
            _say(f"\n[c] {durable_note}\n    source: {durable_source_note()}")

    # ---- d. hand-written baseline
    hand = make_hand(AS_OF)
    hand_trusting = make_hand(AS_OF, validate=False)
    med, best, hand_out = _timed(lambda: [hand(r) for r in records], repeats)
    results["hand"] = _rate(n * nq, med)
    clean = [r for r in records if record_ok(r)]  # without the check it is only defined on clean records
    med2, _, _ = _timed(lambda: [hand_trusting(r) for r in clean], repeats)
    results["hand_trusting"] = _rate(len(clean) * nq, med2)
    dis = disagreements(records, hand_out, batch_out)
    _say(f"\n[d] hand-written baseline (with the record check it needs): {results['hand']:,.0f} decisions/s "
         f"(median {med:.3f} s); without the record check: {results['hand_trusting']:,.0f} decisions/s "
         f"(on the {len(clean):,} well-formed records)")
    _say(f"    disagreements with decide_batch on {n:,} records x {nq} questions (as_of {AS_OF}): {len(dis)}")
    for d in dis[:5]:
        _say(f"      {d[0]} {d[1]}: hand {d[2]}, engine {d[3]}")
    extra_total = 0
    for day in EXTRA_AS_OF:
        ex = disagreements(records, hand_outcomes(records, day), engine_outcomes(policy, records, day))
        extra_total += len(ex)
        _say(f"    as_of {day}: {len(ex)} disagreements" + "".join(f"\n      {d[0]} {d[1]}: hand {d[2]}, engine {d[3]}"
                                                            for d in ex[:5]))
    results["disagreements"] = len(dis) + extra_total

    # ---- f. evaluate over M lines
    ev: dict[str, Any] | None = None
    if m > 0:
        workdir = Path(tempfile.mkdtemp(prefix=".bench-work-", dir=HERE))
        try:
            infile, outfile = workdir / "records.jsonl", workdir / "out.jsonl"
            gen_w = write_jsonl(infile, m, args.seed)
            size_mb = infile.stat().st_size / 1e6
            _say(f"\n[f] wrote {m:,} JSONL lines ({size_mb:,.0f} MB) in {gen_w:.1f} s")
            gc.collect()
            ev = run_evaluate(infile, outfile, workdir)
            _say("    $ " + " ".join(ev["cmd"]))
            _say(f"    exit {ev['rc']}; wall {ev['wall']:.2f} s = {m / ev['wall']:,.0f} lines/s "
                 f"({m * nq / ev['wall']:,.0f} decisions/s incl. start-up, JSON in and out)")
            if ev["peak_kib"] is not None:
                _say(f"    peak RSS of the evaluate process: {ev['peak_kib'] / 1024:,.1f} MiB = "
                     f"{ev['peak_kib'] * 1024 / 1e6:,.1f} MB  [{ev['how']}]")
            polluted = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            _say(f"    (for comparison, getrusage(RUSAGE_CHILDREN).ru_maxrss of this benchmark process says "
                 f"{polluted / 1024:,.1f} MiB: on Linux it includes this parent's RSS carried into the child "
                 "at fork/exec, so it is not used)")
            tail = [ln for ln in ev["stderr"].splitlines() if ln.strip()]
            _say("    stderr summary: " + "; ".join(tail[-12:]))
            if ev["rc"] == 0:
                lines, compared, bad = check_cli_output(outfile, records, batch_out)
                ev["lines"] = lines
                _say(f"    output lines {lines:,} (expected {m:,}); first {compared:,} compared with decide_batch: {bad} differ")
        finally:
            if args.keep_files:
                _say(f"    files kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)

    # ---- 3. table
    h, dur = results["hand"], results["durable"]
    rows = [
        ("batch API decide_batch", results["batch"]),
        ("per-record decide (explained)", results["per_record"]),
        ("per-record decide_all (explained)", results["decide_all"]),
        ("decide_all, prepared record", results["decide_all_prepared"]),
        ("decide_all, prepared, + to_json", results["decide_all_prepared_json"]),
        (f"durable engine ({nd:,} records)" if dur is not None else "durable engine (skipped)", dur),
        ("hand-written, with record check", h),
        ("hand-written, no record check", results["hand_trusting"]),
    ]
    _say("\n" + "=" * 96)
    _say(f"{'engine':38s} {'decisions/s':>14s} {'x hand-written':>15s} {'x durable':>12s}")
    _say("-" * 96)
    for name, rate in rows:
        _say(f"{name:38s} {_fmt_rate(rate):>14s} {_fmt_ratio(rate, h):>15s} {_fmt_ratio(rate, dur):>12s}")
    _say("-" * 96)
    _say(f"ratio batch/durable: {_fmt_ratio(results['batch'], dur)}; ratio per-record/durable: "
         f"{_fmt_ratio(results['per_record'], dur)}" + (f"   ({durable_note})" if durable_note else ""))

    def mark(ok: bool | None) -> str:
        return "MET" if ok else ("NOT MET" if ok is not None else "N/A")

    tg = []
    tg.append(("batch >= 1,000,000 decisions/s", f"{results['batch']:,.0f}/s", mark(results["batch"] >= TARGETS["batch"])))
    tg.append(("decide, explained Decision >= 100,000 decisions/s", f"{results['per_record']:,.0f}/s",
               mark(results["per_record"] >= TARGETS["per_record"])))
    tg.append(("decide_all over a prepared record >= 250,000 decisions/s", f"{results['decide_all_prepared']:,.0f}/s",
               mark(results["decide_all_prepared"] >= TARGETS["decide_all_prepared"])))
    for label, key in (("batch", "batch"), ("per-record", "per_record")):
        if dur:
            r = results[key] / dur
            tg.append((f"{label} >= 20x the durable engine", f"{r:,.1f}x", mark(r >= TARGETS["vs_durable"])))
        else:
            tg.append((f"{label} >= 20x the durable engine", "not measured", "N/A (durable skipped)"))
    tg.append(("pack load + compile < 50 ms (warm, cache of checked files)", f"{lc['load_compile_ms']:.1f} ms",
               mark(lc["load_compile_ms"] < TARGETS["load_compile_ms"])))
    tg.append(("fresh interpreter: import + load + compile < 300 ms", ms(cold),
               mark(cold is not None and cold < TARGETS["cold_start_ms"])))
    if ev is not None and ev["peak_kib"] is not None:
        mb = ev["peak_kib"] * 1024 / 1e6
        tg.append(("evaluate over 1M lines, peak memory < 200 MB", f"{mb:,.1f} MB",
                   mark(mb < TARGETS["evaluate_peak_mb"] and ev["rc"] == 0) if m >= 1_000_000 else
                   mark(mb < TARGETS["evaluate_peak_mb"]) + f" (only {m:,} lines measured)"))
    else:
        tg.append(("evaluate over 1M lines, peak memory < 200 MB", "not measured", "N/A"))
    _say("")
    _say(f"{'target':58s} {'measured':>16s}  status")
    _say("-" * 96)
    for name, val, st in tg:
        _say(f"{name:58s} {val:>16s}  {st}")
    _say("-" * 96)
    _say(f"correctness: hand-written vs decide_batch disagreements (all as_of days): {results['disagreements']}")
    _say("x hand-written = decisions/s divided by the hand-written baseline WITH its record check (both validate input)")
    if _CPU_WALL[1]:
        share = _CPU_WALL[0] / _CPU_WALL[1]
        _say(f"CPU share of the timed runs (process CPU time / wall time): {share:.0%}"
             + ("  <- other processes competed for the CPU; absolute rates are low, ratios less affected"
                if share < 0.9 else ""))
    for line in machine_info():
        _say("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
