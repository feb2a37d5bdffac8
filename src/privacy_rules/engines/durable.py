"""durable-rules as an optional second engine and an independent oracle.

``DurablePolicy(pack)`` answers the same questions as the compiled ``Policy``, but every rule's
conditions are evaluated by durable-rules (a Rete engine written in C) instead of generated
Python. Its main job is the differential test (tests/property/test_durable_agrees.py): two
independent evaluators of the same rules must give the same rule statuses. Combining and the
explained Decision are shared (``privacy_rules.decide``); only the statuses come from durable.

Why it is not the default (research/durable_rules.md): only an sdist from 2020, no import on
Python 3.13, ~100x slower than generated Python, process-global C state, crash modes. The
facade below exists to keep those away from callers:

* durable is imported lazily, only when a DurablePolicy is built; if it cannot be imported,
  :class:`EngineUnavailable` says why and what to install.
* A private Host subclass with ``_run`` disabled: no dispatcher or timer threads.
* One ``threading.Lock`` per DurablePolicy serialises every engine call.
* A fresh session id (sid) per evaluation; facts are *asserted* (``assert_facts``, so every
  matching rule fires, unlike ``post``), and the sid is deleted in ``finally``.
* Measured here, in addition to the research note (durable-rules 2.0.28, Python 3.11):

  - ``delete_state`` **segfaults** when no action has run on the sid (``createStateNode``
    leaves ``context.messages`` uninitialised and ``deleteStateNode`` frees it), e.g. after
    ``MessageNotHandledException`` or when the facts matched nothing. So every ruleset has a
    ``done`` rule that fires once per evaluation, a never-firing sentinel rule that "handles"
    every fact (so MessageNotHandledException cannot happen), and a ``flush`` rule fired
    before ``delete_state`` if an evaluation failed before any action ran. A sid that still
    cannot be cleaned is left alone (counted) rather than crash the process.
  - A false join test (a test reading another alias, ``{"$lte": {"d": {"c": "asof"}}}``)
    inside ``$and`` makes ``reduceExpressionSequence`` skip past the group's end and read
    beyond the expression array (valgrind: invalid read at events.c:614): random segfaults.
    A nested ``$and``/``$or`` also ends its parent's evaluation, so join tests after it are
    silently ignored (a wrong match). :func:`_pattern` lays every pattern out so neither can
    happen (join tests at the top level, then constant-only groups, a group last).
  - ``$not`` ignores facts already bound to an earlier alias of the same rule ("no *other*
    fact matches"), and one fact never binds two aliases. So negations come right after the
    ``ctx`` alias, before any positive pattern; positive patterns on one single-instance fact
    are merged into one alias; k patterns over list entries are expanded over the set
    partitions of the k patterns (same entry or different entries).
  - ``$or`` with a join test on a property the fact lacks raises error 311; facts never lack a
    property a join test reads (see ``NEVER``).
* ``state['exception']`` (a swallowed exception in an action) is raised; durable's integer
  error codes are translated into messages naming the pack, question and, for ruleset
  creation, the rule; a cap on durable rules per ruleset (default 400; durable hangs at ~513)
  and a bound on durable's alpha stack (``MAX_STACK``, 64: error 303 mid-decision), both checked
  when a question's ruleset is built, so a pack is refused before any record (``RuleLimitExceeded``).
* Strict types: dates are integer day numbers (``date.toordinal()``); strings are only ever
  compared for equality; strings, numbers and booleans live in different fields
  (``xs``/``xn``/``xb``, booleans as 0/1, numbers as canonical text: durable compares numbers
  as doubles and crashes on a fact holding ``1e+20``) so durable's ``'10' == 10`` coercion
  cannot apply and a boolean never equals a number; a ``fact`` value whose kind no operand
  has is unknown.
* The ``utcfromtimestamp`` DeprecationWarning (Python 3.12) is filtered locally.
* No durable.lang globals; the ruleset dict is deep-copied before ``set_rulesets`` (which
  mutates it); ruleset names are unique per instance (Host rulesets cannot be deleted, so each
  DurablePolicy keeps the rulesets it created for its lifetime: build one and reuse it).

Translation (one durable ruleset per question, for the rules ``codegen.targets`` selects)
-----------------------------------------------------------------------------------------
Facts asserted per evaluation (all primitives):

* ``ctx``: ``asof`` (day number) and ``cut_<window>`` (the window's cut-off day for as_of,
  from ``privacy_rules.dates.cutoff``). Asserted **last**, and every rule joins it first, so a
  rule is only matched once all other facts are present (``$not`` is then sound).
* ``s``: one per present scalar the ruleset reads: ``p`` (path, or ``role``), ``xs`` (string),
  ``xn`` (finite number, as canonical text) or ``xb`` (boolean, 0/1), and ``d`` (day number) when the value is a date. Absent = no fact; a
  pack-defined fact that is not a date has no ``d`` (``happened`` and windows on it: unknown).
* ``subj``: present iff ``subject_categories`` is, with ``c_<category>`` = 1/0.
* one fact per list entry (``con``, ``obj``, ``res``, ``era``, ``rr``, ``hold``, ``ord``,
  ``vou``) and per data category (``dc``), with dates as day numbers; a legal hold carries
  ``allsc`` (1: it names no scopes, so covers all) and ``sc_<scope>`` = 1 per scope it
  names. An absent optional date (withdrawn, lifted, verified, released, ...) means "has not
  happened" and is encoded as ``NEVER`` (a day after every real day), so ``x <= asof`` is
  false and ``x > asof`` true; a missing property cannot be used because durable raises
  error 311 when a join test reads one.
* ``k``: the keep outcome for ``keep: allowed`` (1 allow, 0 deny, absent when undetermined).

Day numbers are exact days. A record with an undated date (``{"on_or_before": D}``) is not
translated: its statuses come from the interpreter (compile/interpret.py), as ``Policy``
routes it, so both engines give it the same answers by construction.

Three-valued logic: each predicate p is translated into three conditions in disjunctive
normal form: T(p) (p holds), F(p) (p does not hold) and U(p) (p is unknown), where a
conjunction is a set of literals: a fact pattern that must match (``alias``), a pattern that
must not match (``alias$not``), or a comparison on ``ctx.asof``. Kleene logic is pushed down:
T(all)=AND T, F(all)=OR F, U(all)=AND(not F) AND OR U; dually for ``any``; ``not`` swaps T and
F. Every pack rule then becomes durable rules ``r<i>t*``, ``r<i>u*`` and ``r<i>f*``; its status
is True / None / False according to which fired, and **exactly one must fire** (anything else
raises: the translation checks itself on every evaluation).

Written out in DNF, deeply nested conditions grow exponentially (Iconfirm's
``share.relationship-purpose-not-live`` is a ``not`` of an ``any`` of five ``all``s: over 2,000
conjunctions). A composite condition whose DNF exceeds ``_INLINE_LIMIT`` conjunctions is
therefore *materialised* (Tseitin-style): durable evaluates it with its own t/u/f rules in an
earlier stratum, and its parent reads the conclusion as a fact ``nd`` (``n`` = node, ``v`` =
t/u/f). Strata are separate ``assert_facts`` calls on the same session; each stratum's ``ctx``
fact (``s`` = stratum) is asserted last and every rule joins the ``ctx`` of its own stratum, so
a rule runs only after all the conclusions it reads exist (stratified negation, as in Datalog).

What is computed in Python rather than in durable (all of it independent of the rules'
comparisons against as_of, except where noted):

* day numbers of dates, and the window cut-off days (``dates.cutoff``, tested separately);
  durable compares anchors with them (``cut <= anchor <= asof``);
* absent optional dates encoded as ``NEVER`` (see above); subject-category membership as 1/0;
* constants of the vocabulary and the question, folded at translation time as codegen does:
  ``recipient_serves``, ``recipient_listed``, ``channel_electronic``, the recipient's DPA
  interval and the intersections of its transfer periods with the mechanisms' validity
  (durable compares ``asof`` with the resulting constant days), the keep question's scope
  for ``legal_hold``; whether a consent's mechanism counts for its purpose on as_of (fact field
  ``mv``: 1 counts, 0 no consent, 2 not recorded in a pack declaring mechanisms; N53), from
  the pack's ``vocabulary.consent_mechanisms`` (runtime.mechanism_counts);
* ``keep: allowed``: the keep question's outcome, from durable statuses and the shared
  ``combine``, asserted as fact ``k``;
* ``consent_withdrawn: any`` needs "some purpose has a withdrawn consent and no live one",
  whose negation durable cannot express in one rule (a ``$not`` inside a ``$not``). It is
  evaluated by durable in stratum 1 (a rule over the consent facts); Python only carries the
  result into the next call as a derived fact ``dv`` (``cw_any_u`` for its unknown case: the
  only live consents of a withdrawn purpose have no recorded mechanism);
* a question one of whose rules has a ``compare`` (two record days, one possibly a window's
  end) is decided by the interpreter, as a record with undated dates is: durable-rules cannot
  add calendar months to a fact's date (a documented refusal, docs/durable-rules.md);
* likewise the conclusions of materialised conditions (``nd``): durable computes them, the
  facade carries them from one stratum's call to the next (and checks exactly one of t/u/f).
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import itertools
import json
import math
import re
import sys
import threading
import warnings
from datetime import date
from typing import Any, Callable, Generator, Iterable, Iterator, Mapping, NamedTuple, TypeAlias

# bad records never reach an engine; word them exactly as the compiled Policy does
from .._answers import check_records
from .._answers import (Answer, BatchRow, QuestionError, as_question as _as_question, bad_answers, question_sets_of,
                       compact as _problem_text, invalid_reason as _invalid_reason, select_questions, unreadable)
from .._reasons import Detailer
from ..compile import interpret
from ..compile.codegen import QuestionPlan, targets
from ..compile.runtime import mech_table, mechanism_counts, restriction_began
from ..dates import cutoff, in_supported_range, iso_cutoff, parse_as_of, parse_date
from ..declared import declared_facts
from ..decide import (ALLOW_S, EFFECT_CODE, OVERRIDE, PERMIT, UND_S, Tables, build_decision, combine,
                      fact_problems, keep_until_for)
from ..errors import PrivacyRulesError
from ..model import Action, Decision, Diagnostic, Outcome, Pack, Pred, Question
from ..prepared import PreparedRecord, facts_of, original, prepare as prepare_record
from ..question_facts import question_constant, recipient_unknown
from ..recipients import RecipientFactsError, RecipientRegister, apply_register, check_share_question, engine_for
from ..records import (LIST_DATE_PATHS, LIST_FIELDS, Facts, RecordIds, RecordInvalid, id_problems, new_scanner,
                       normalize, parse_record, record_id_of)

_tables_for: Callable[[Pack, QuestionPlan, str], Tables] | None
try:  # decide.build_decision takes precomputed per-question tables (newer) or effects + lang (older)
    from ..decide import tables_for as _tables_for
except ImportError:  # pragma: no cover - older core
    _tables_for = None
_BUILD_PARAMS = frozenset(inspect.signature(build_decision).parameters)

__all__ = ["MAX_RULES", "MAX_STACK", "DurableEngineError", "DurablePolicy", "EngineUnavailable", "RuleLimitExceeded"]

MAX_RULES = 400  # durable rules per ruleset; create_ruleset hangs (holding the GIL) at ~513
NEVER = 10_000_000  # a day number after every real day (date.max.toordinal() == 3_652_059)
_MAX_CONJUNCTIONS = 2_000  # per DNF while translating one rule: beyond this the rule is too complex
_INLINE_LIMIT = 16  # conjunctions per DNF of a composite condition before durable computes it apart
_MAX_LEAKED = 64  # sids left uncleaned after engine failures before the instance refuses work
_MAX_CTX = 4096
MAX_STACK = 64  # durable's MAX_STACK_SIZE (events.c handleAlpha): alpha nodes pending while one fact is matched

_INSTANCES = itertools.count(1)

_ERROR_CODES: Mapping[int, str] = {
    101: "out of memory",
    102: "unexpected type in a rule definition",
    103: "identifier too long",
    104: "unexpected value in a rule definition",
    105: "unexpected name in a rule definition",
    106: "too many rules (durable's rule limit)",
    107: "too many existence tests in one rule",
    108: "too many joins (durable's beta-node limit)",
    109: "rule without a qualifier",
    110: "setting not found",
    111: "invalid handle",
    112: "too many handles",
    113: "expression too large",
    201: "cannot parse a value",
    202: "cannot parse a string or unknown operator",
    203: "cannot parse a number",
    204: "cannot parse an object",
    205: "cannot parse an array",
    302: "a fact has too many properties",
    303: "a fact satisfies more than 64 conditions (durable's MAX_STACK_SIZE)",
    304: "too many facts in one rule match",
    305: "message not found",
    306: "location not found",
    307: "node deleted (engine state corrupted)",
    308: "node dispatching",
    309: "session not found",
    310: "no action available",
    311: "a condition read a property the fact does not have",
    312: "operation not supported",
}


# --- errors ------------------------------------------------------------------------------------


class EngineUnavailable(PrivacyRulesError):
    """The optional durable-rules engine cannot be used in this Python."""


class DurableEngineError(PrivacyRulesError):
    """durable-rules failed, or the translation checked itself and found a problem."""


class RuleLimitExceeded(DurableEngineError):
    """A question of the pack needs more durable rules than one ruleset can safely hold."""


def _load_durable() -> tuple[Any, Any]:
    """(durable.engine, durable_rules_engine), imported now; EngineUnavailable if impossible."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import durable.engine as engine  # optional: imported lazily, on purpose
            import durable_rules_engine as core
    except ImportError as exc:  # ModuleNotFoundError, or "undefined symbol: PyEval_CallObject" on 3.13
        v = sys.version_info
        raise EngineUnavailable(
            f"durable-rules cannot be imported on this Python ({v.major}.{v.minor}.{v.micro}): {exc}. "
            "The durable engine is optional; install it with `pip install privacy-rules[durable]` "
            "on Python 3.11 or 3.12 (durable-rules 2.0.28 has no release that imports on 3.13 or later), "
            "or use the default compiled engine."
        ) from exc
    return engine, core


def _host_class(engine: Any) -> type:
    # durable-rules ships no types, so engine.Host is Any: subclassing it is what the facade is for
    class _QuietHost(engine.Host):  # type: ignore[misc]
        """A Host without the background dispatcher and timer threads (they race and segfault)."""

        def _run(self) -> None:
            pass

        def get_action(self, action_name: str) -> Any:
            raise DurableEngineError(f"durable asked for action `{action_name}` by name; none are registered")

        def load_ruleset(self, ruleset_name: str) -> Any:
            raise DurableEngineError(f"durable ruleset `{ruleset_name}` is not registered on this DurablePolicy")

    return _QuietHost


# --- the condition language: literals, conjunctions, DNF ---------------------------------------

_SINGLETON = frozenset({"s", "subj", "k", "dv", "nd"})  # at most one fact per key in a session


# a literal's fact identity (see _Lit.key): ("s", "role"), ("con",), ("ctx", "$lte", 738000), ...
_Key: TypeAlias = tuple[Any, ...]


class _Lit(NamedTuple):
    """One literal of a conjunction.

    sign: ``pos`` (a fact matching ``conds`` exists), ``neg`` (none exists) or ``ctx`` (one
    comparison on ctx.asof). key: the fact's identity for merging: (type,) for list entries,
    (type, discriminator) for single-instance facts, ("ctx", op, value) for ctx comparisons.
    conds: canonical JSON of each durable condition (the type test included).
    """

    sign: str
    key: _Key
    conds: tuple[str, ...]


Conj: TypeAlias = frozenset[_Lit]
DNF: TypeAlias = tuple[Conj, ...]  # a disjunction of conjunctions; () is false, (frozenset(),) true
TRUE: DNF = (frozenset(),)
FALSE: DNF = ()


def _j(cond: Mapping[str, Any]) -> str:
    return json.dumps(cond, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


ASOF = {"c": "asof"}


def _cut(window: str) -> dict[str, str]:
    return {"c": f"cut_{window}"}


def _cmp(op: str, field: str, value: Any) -> dict[str, Any]:
    return {op: {field: value}}


def _fact_conds(t: str, disc: tuple[str, Any] | None, conds: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    base = [{"t": t}]
    if disc is not None:
        base.append({disc[0]: disc[1]})
    return tuple(sorted({_j(c) for c in (*base, *conds)}))


def pos(t: str, *conds: Mapping[str, Any], disc: tuple[str, Any] | None = None) -> _Lit:
    key = (t, disc[1]) if disc is not None else (t,)
    return _Lit("pos", key, _fact_conds(t, disc, conds))


def neg(t: str, *conds: Mapping[str, Any], disc: tuple[str, Any] | None = None) -> _Lit:
    key = (t, disc[1]) if disc is not None else (t,)
    return _Lit("neg", key, _fact_conds(t, disc, conds))


def ctx(op: str, day: int) -> _Lit:
    return _Lit("ctx", ("ctx", op, day), (_j(_cmp(op, "asof", day)),))


def one(*lits: _Lit) -> DNF:
    """A DNF with one conjunction."""
    return (frozenset(lits),)


_FLIP_OP = {"$lt": "$gte", "$lte": "$gt", "$gt": "$lte", "$gte": "$lt"}


def _flip(lit: _Lit) -> _Lit:
    if lit.sign == "pos":
        return lit._replace(sign="neg")
    if lit.sign == "neg":
        return lit._replace(sign="pos")
    _, op, day = lit.key
    return ctx(_FLIP_OP[op], day)


def _equalities(conds: Iterable[str]) -> dict[str, set[str]]:
    """field -> the constants it must equal, from plain ``{field: constant}`` conditions."""
    out: dict[str, set[str]] = {}
    for c in conds:
        d = json.loads(c)
        (k, v), = d.items()
        if not k.startswith("$") and not isinstance(v, dict):
            out.setdefault(k, set()).add(json.dumps(v))
    return out


def _contradictory(conds: Iterable[str]) -> bool:
    return any(len(vs) > 1 for vs in _equalities(conds).values())


def _unsat(conj: Conj) -> bool:
    """Sound (not complete) detection of conjunctions that can never hold."""
    lo, hi = -math.inf, math.inf
    merged: dict[_Key, set[str]] = {}
    multi: dict[_Key, list[frozenset[str]]] = {}
    for lit in conj:
        if lit.sign == "ctx":
            _, op, day = lit.key
            if op == "$gte":
                lo = max(lo, day)
            elif op == "$gt":
                lo = max(lo, day + 1)
            elif op == "$lte":
                hi = min(hi, day)
            else:
                hi = min(hi, day - 1)
        elif lit.sign == "pos":
            if lit.key[0] in _SINGLETON:
                merged.setdefault(lit.key, set()).update(lit.conds)
            else:
                if _contradictory(lit.conds):
                    return True
                multi.setdefault(lit.key, []).append(frozenset(lit.conds))
    if lo > hi:
        return True
    if any(_contradictory(c) for c in merged.values()):
        return True
    for lit in conj:
        if lit.sign != "neg":
            continue
        need = set(lit.conds)
        if lit.key in merged and need <= merged[lit.key]:
            return True  # the fact the positive literal binds would match the negated pattern
        if any(need <= c for c in multi.get(lit.key, ())):
            return True
    return False


def _absorb(conjs: Iterable[Conj]) -> DNF:
    """Deduplicated DNF without conjunctions that a smaller one already covers (A or A&B = A)."""
    unique = list(dict.fromkeys(c for c in conjs if not _unsat(c)))
    unique.sort(key=len)
    out: list[Conj] = []
    for c in unique:
        if not any(o <= c for o in out):
            out.append(c)
    return tuple(out)


def _or(*dnfs: DNF) -> DNF:
    return _absorb(c for d in dnfs for c in d)


def _and(*dnfs: DNF) -> DNF:
    acc: DNF = TRUE
    for d in dnfs:
        if len(acc) * len(d) > _MAX_CONJUNCTIONS * 4:
            raise _TooComplex()
        acc = _absorb(a | b for a in acc for b in d)
        if len(acc) > _MAX_CONJUNCTIONS:
            raise _TooComplex()
    return acc


def _negate(d: DNF) -> DNF | None:
    """not d, when it is one conjunction of flipped literals; None otherwise."""
    if not d:
        return TRUE
    if all(len(c) == 1 for c in d):
        return _absorb([frozenset(_flip(next(iter(c))) for c in d)])
    return None


def _size(d: DNF) -> tuple[int, int]:
    return len(d), sum(len(c) for c in d)


class _TooComplex(Exception):
    pass


class _Node(NamedTuple):
    """T, F, U and the complements NT (= F or U) and NF (= T or U), each a DNF.

    comp: a composite (all/any/not) whose DNFs are written out inline (it may be materialised);
    height: the latest stratum whose derived facts the DNFs read (0: record facts only).
    """

    T: DNF
    F: DNF
    U: DNF
    NT: DNF
    NF: DNF
    comp: bool = False
    height: int = 0


def _node(T: DNF, F: DNF, U: DNF, NT: DNF | None = None, NF: DNF | None = None) -> _Node:
    nt = [x for x in (NT, _negate(T), _or(F, U)) if x is not None]
    nf = [x for x in (NF, _negate(F), _or(T, U)) if x is not None]
    return _Node(T, F, U, min(nt, key=_size), min(nf, key=_size))


def _two_valued(T: DNF, F: DNF | None = None) -> _Node:
    """A predicate that is never unknown; F defaults to 'no fact matches T'."""
    if F is None:
        F = _negate(T)
        assert F is not None, "T must be a disjunction of single literals"
    return _node(T, F, FALSE)


def _const(value: bool) -> _Node:
    return _node(TRUE, FALSE, FALSE) if value else _node(FALSE, TRUE, FALSE)


def _partitions(items: list[Any]) -> Iterator[list[list[Any]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in _partitions(rest):
        yield [[first], *p]
        for i in range(len(p)):
            yield [*p[:i], [first, *p[i]], *p[i + 1:]]


def _is_join(cond: Mapping[str, Any]) -> bool:
    """A test that reads another alias (``{"$lte": {"d": {"c": "asof"}}}``): a beta test in durable."""
    (k, v), = cond.items()
    if k in ("$and", "$or"):
        return False
    if k.startswith("$"):
        (_, value), = v.items()
        return isinstance(value, dict)
    return isinstance(v, dict)


def _pattern(conds: Iterable[str]) -> dict[str, Any]:
    """One alias's condition, laid out so durable evaluates it correctly and safely.

    durable-rules 2.0.28 evaluates a pattern's join tests (tests that read another alias) as a
    sequence (events.c ``reduceExpressionSequence``) with two bugs, both reproduced here:

    * after a false join test inside ``$and`` its short-circuit skips *past* the group's end
      marker and reads on beyond the expression array until it meets a 0x0D byte: an
      out-of-bounds read (valgrind: "Invalid read ... events.c:614") that segfaults now and
      then, depending on the heap;
    * a nested ``$and``/``$or`` ends its parent's evaluation: join tests after a nested group
      are ignored, so ``{"$and": [{"$or": [...]}, {"$lte": {"d": {"c": "asof"}}}]}`` matched
      a fact whose ``d`` is after as_of.

    So: constant tests first, then the join tests (only ever at the top level of the ``$and``),
    then nested groups (constant tests only), and, when there are join tests, at least one
    nested group last: its end marker stops the buggy skip inside the array.
    """
    parts = [json.loads(c) for c in sorted(set(conds))]
    types = [p["t"] for p in parts if "t" in p and len(p) == 1]
    alpha = [p for p in parts if not _is_join(p) and next(iter(p)) not in ("$and", "$or")]
    alpha.sort(key=lambda p: (next(iter(p)) != "t", _j(p)))
    joins = [p for p in parts if _is_join(p)]
    groups = [p for p in parts if next(iter(p)) in ("$and", "$or")]
    for g in groups:
        if '{"c":' in _j(g) or '{"w":' in _j(g):
            raise DurableEngineError(f"internal: a nested group may not hold join tests: {_j(g)}")
    if joins and not groups:
        groups = [{"$and": [{"t": types[0]}]}]
    ordered = alpha + joins + groups
    return ordered[0] if len(ordered) == 1 else {"$and": ordered}


def _emit(conj: Conj, stratum: int) -> list[list[dict[str, Any]]]:
    """The bodies (``all`` lists) of the durable rules that together match ``conj`` in ``stratum``."""
    ctx_conds: set[str] = {_j({"t": "ctx"}), _j({"s": stratum})}
    singles: dict[_Key, set[str]] = {}
    multis: dict[_Key, list[tuple[str, ...]]] = {}
    negs: list[_Lit] = []
    for lit in sorted(conj):
        if lit.sign == "ctx":
            ctx_conds.update(lit.conds)
        elif lit.sign == "neg":
            negs.append(lit)
        elif lit.key[0] in _SINGLETON:
            singles.setdefault(lit.key, set()).update(lit.conds)
        else:
            multis.setdefault(lit.key, []).append(lit.conds)
    choices = [[(key, [set(itertools.chain(*block)) for block in p]) for p in _partitions(pats)]
               for key, pats in sorted(multis.items())]
    bodies = []
    for combo in itertools.product(*choices):
        blocks: list[tuple[_Key, set[str]]] = [(k, c) for k, c in sorted(singles.items())]
        for key, merged in combo:
            blocks.extend((key, m) for m in merged)
        if any(_contradictory(c) for _, c in blocks):
            continue
        if any(n.key == k and set(n.conds) <= c for n in negs for k, c in blocks):
            continue
        # negations first: durable's `$not` does not look at facts already bound to an earlier
        # alias of the rule (measured), so after the positives it would ask "no *other* fact"
        body: list[dict[str, Any]] = [{"c": _pattern(ctx_conds)}]
        body.extend({f"n{i}$not": _pattern(n.conds)} for i, n in enumerate(negs))
        body.extend({f"a{i}": _pattern(c)} for i, (_, c) in enumerate(blocks))
        bodies.append(body)
    return bodies


# --- records -> facts --------------------------------------------------------------------------

# list field -> (fact type, record field -> fact field); optional dates become NEVER when absent
_LISTS: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "consents": ("con", {"purpose": "purpose", "recipient": "rcp", "given_on": "given", "withdrawn_on": "wd"}),
    "objections": ("obj", {"kind": "kind", "received_on": "recv", "withdrawn_on": "wd",
                           "compelling_grounds_on": "cg"}),
    "restrictions": ("res", {"requested_on": "req", "lifted_on": "lifted", "ground": "ground"}),
    "erasure_requests": ("era", {"received_on": "recv", "verified_on": "ver", "answered_on": "ans",
                                 "compelling_grounds_on": "cg"}),  # extended_on: only obligation due days read it
    "rights_requests": ("rr", {"kind": "kind", "received_on": "recv", "verified_on": "ver", "answered_on": "ans"}),
    "legal_holds": ("hold", {"placed_on": "placed", "released_on": "rel", "scopes": "scopes"}),
    "disclosure_orders": ("ord", {"recipient": "rcp", "received_on": "recv", "binding": "binding"}),
    "vouchers": ("vou", {"fiscal_year_end": "fye"}),
}
_TYPE_LIST = {t: name for name, (t, _) in _LISTS.items()}
_DATE_FIELDS = {"given_on", "withdrawn_on", "received_on", "compelling_grounds_on", "requested_on", "lifted_on",
                "verified_on", "answered_on", "placed_on", "released_on", "fiscal_year_end"}


_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")  # ids that can become field names (fullmatch: `$` allows a final newline)


def _day(value: Any) -> int:
    return NEVER if value is None else parse_date(value).toordinal()


def _list_facts(facts: Facts, name: str, mechs: Any = None, asof: str = "") -> list[dict[str, Any]]:
    t, mapping = _LISTS[name]
    fields = list(LIST_FIELDS[name][0])
    began = restriction_began(facts.lists.get("restrictions", ()), asof) if name == "consents" else None
    out = []
    for i, row in enumerate(facts.lists.get(name, ())):
        f: dict[str, Any] = {"t": t, "i": i}
        if name == "consents":  # row: (purpose, recipient, given_on, withdrawn_on, mechanism)
            ok = mechanism_counts(mechs, row[4], row[0], asof)
            f["mv"] = _MV_YES if ok else _MV_UNKNOWN if ok is None else _MV_NO
            # given after every restriction active on as_of was requested (Art. 18(2), R6;
            # runtime.restriction_began, folded in Python per as_of as the mechanism is)
            f["ar"] = 1 if began is None or (row[2] is not None and row[2] > began) else 0
        for field, value in zip(fields, row):
            target = mapping.get(field)
            if target is None:
                continue
            if field in _DATE_FIELDS:
                f[target] = _day(value)
            elif field == "binding":
                f[target] = 1 if value is True else 0
            elif field == "scopes":  # a hold naming no scopes covers every scope (R21)
                f["allsc"] = 1 if value is None else 0
                f.update({f"sc_{x}": 1 for x in value or () if _ID.fullmatch(x)})
            elif value is not None:
                f[target] = value
        out.append(f)
    return out


def _scalar_fact(path: str, value: Any) -> dict[str, Any] | None:
    f: dict[str, Any] = {"t": "s", "p": path}
    if isinstance(value, str):
        f["xs"] = value
        try:
            day = parse_date(value)
        except ValueError:
            pass
        else:
            if in_supported_range(day):  # as runtime._is_date: outside the range is not a date fact
                f["d"] = day.toordinal()
    else:
        field = _kind_field(value)
        if field is None:
            return None
        f[field[0]] = field[1]  # a non-finite number has none: its `fact` conditions are unknown
    return f


# Numbers go to durable as text, compared for equality only: one text per number (integral
# values as integer digits, others as the shortest repr), so 1 == 1.0 and -0.0 == 0 as in
# Python, and exactly. Measured with numbers as JSON numbers: durable compared them as doubles
# (10**20 + 1 equalled 10**20, 2**53 + 1 equalled 2.0**53), a rule comparing with 1e20 failed
# with error 204, and a fact holding 1e20 (json: 1e+20) crashed the process (segfault).
def _kind_field(value: Any) -> tuple[str, Any] | None:
    """(field, constant) of a `fact` value or operand: one field per kind (runtime.fact_*), so a
    boolean never meets a number (Python's True == 1) and durable's '10' == 10 cannot apply;
    numbers as text (see below)."""
    if isinstance(value, bool):
        return "xb", int(value)
    if isinstance(value, int):
        return "xn", str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return None  # NaN, infinity: a value of no kind, equal to nothing
        return "xn", str(int(value)) if value.is_integer() else repr(float(value))
    if isinstance(value, str):
        return "xs", value
    return None  # null



# --- translation of one question ----------------------------------------------------------------


class _Needs:
    def __init__(self) -> None:
        self.types: set[str] = set()
        self.paths: set[str] = set()
        self.categories: set[str] = set()
        self.windows: set[str] = set()
        self.strata: set[str] = set()
        # a rule compares two record days (`compare`): the question is decided by the interpreter
        self.interpreted = False


class _Translator:
    """Pred trees -> _Node, for one question of one pack (question constants folded like codegen)."""

    def __init__(self, pack: Pack, q: Question, needs: _Needs) -> None:
        self.pack = pack
        self.q = q
        self.v = pack.vocabulary
        self.needs = needs
        self.materialised: list[tuple[int, int, _Node]] = []  # (node id, stratum, node)

    def node(self, p: Pred) -> _Node:
        k = p.kind
        if k in ("all", "any"):
            kids = [self.node(c) for c in p.children]
            while True:
                try:
                    n = self._combine(k, kids)
                    if max(len(n.T), len(n.F), len(n.U), len(n.NT), len(n.NF)) <= _INLINE_LIMIT:
                        return n
                except _TooComplex:
                    pass
                # too large written out: materialise the largest composite child, then retry
                inline = [i for i, c in enumerate(kids) if c.comp]
                if not inline:
                    return self._combine(k, kids)  # only leaves left: as small as it gets
                big = max(inline, key=lambda i: sum(_size(d)[0] for d in kids[i][:5]))
                kids[big] = self._materialise(kids[big])
        if k == "not":
            c = self.node(p.children[0])
            return _Node(c.F, c.T, c.U, c.NF, c.NT, c.comp, c.height)
        method: Callable[[Any], _Node] | None = getattr(self, "p_" + k, None)
        if method is None:
            raise DurableEngineError(f"predicate `{k}` is not supported by the durable engine")
        return method(p.arg)

    @staticmethod
    def _combine(k: str, kids: list[_Node]) -> _Node:
        """Kleene AND / OR of the children, as DNFs."""
        if k == "all":
            T = _and(*(c.T for c in kids))
            F = _or(*(c.F for c in kids))
            NF = _and(*(c.NF for c in kids))
            NT = _or(*(c.NT for c in kids))
            U = _and(NF, _or(*(c.U for c in kids)))
        else:
            T = _or(*(c.T for c in kids))
            F = _and(*(c.F for c in kids))
            NT = _and(*(c.NT for c in kids))
            NF = _or(*(c.NF for c in kids))
            U = _and(NT, _or(*(c.U for c in kids)))
        return _node(T, F, U, NT, NF)._replace(comp=True, height=max((c.height for c in kids), default=0))

    def _materialise(self, n: _Node) -> _Node:
        """Let durable compute ``n`` in a stratum of its own: its t/f/u rules assert (through the
        facade, between two assert_facts calls) one derived fact ``nd`` that parents then read.
        Stratified like Datalog: a node's rules run after every stratum its inputs come from."""
        k = len(self.materialised)
        stratum = n.height + 1
        self.materialised.append((k, stratum, n))
        self.needs.types.add("nd")

        def lit(sign: str, v: str) -> _Lit:
            return (pos if sign == "pos" else neg)("nd", {"v": v}, disc=("n", k))

        return _Node(one(lit("pos", "t")), one(lit("pos", "f")), one(lit("pos", "u")),
                     one(lit("neg", "t")), one(lit("neg", "f")), False, stratum)

    # -- scalar facts ---------------------------------------------------------------------
    def _s(self, sign: str, path: str, *conds: Mapping[str, Any]) -> _Lit:
        self.needs.types.add("s")
        self.needs.paths.add(path)
        return (pos if sign == "pos" else neg)("s", *conds, disc=("p", path))

    def p_role(self, a: str) -> _Node:
        return _node(one(self._s("pos", "role", {"xs": a})),
                     one(self._s("pos", "role", _cmp("$neq", "xs", a))),
                     one(self._s("neg", "role")))

    def p_subject(self, a: Any) -> _Node:
        ids = sorted({a} if isinstance(a, str) else set(a))
        self.needs.types.add("subj")
        self.needs.categories.update(ids)
        hit = [{f"c_{i}": 1} for i in ids]
        any_hit = hit[0] if len(hit) == 1 else {"$or": hit}
        return _node(one(pos("subj", any_hit)), one(pos("subj", *({f"c_{i}": 0} for i in ids))), one(neg("subj")))

    def _window(self, wid: str, expired: bool) -> _Node:
        w = self.v.windows[wid]
        self.needs.windows.add(wid)
        if w.is_list:
            name, idx = LIST_DATE_PATHS[w.anchor]
            t, mapping = _LISTS[name]
            field = mapping[list(LIST_FIELDS[name][0])[idx]]
            self.needs.types.add(t)
            # the latest anchor on or before as_of is >= cut  <=>  some anchor lies in [cut, as_of];
            # with count_future every entry counts: some anchor is >= cut
            upto = [] if w.count_future else [_cmp("$lte", field, ASOF)]
            inside = pos(t, *upto, _cmp("$gte", field, _cut(wid)))
            if not expired:
                return _two_valued(one(inside))
            started = pos(t, *upto) if upto else pos(t, _cmp("$lt", field, NEVER))  # an entry with that date
            return _two_valued(one(started, _flip(inside)), _or(one(_flip(started)), one(inside)))
        a = w.anchor
        absent = self._s("neg", a)
        future = self._s("pos", a, _cmp("$gt", "d", ASOF))
        open_ = self._s("pos", a, _cmp("$lte", "d", ASOF), _cmp("$gte", "d", _cut(wid)))
        closed = self._s("pos", a, _cmp("$lte", "d", ASOF), _cmp("$lt", "d", _cut(wid)))
        # a pack-defined fact that is present but not a date makes the window unknown
        nodate = one(self._s("pos", a, {"$nex": {"d": 1}})) if a.startswith("facts.") else FALSE
        if not expired:
            if w.open_if_absent:  # absent or in the future: the relationship has not ended
                return _node(_or(one(absent), one(future), one(open_)), one(closed), nodate)
            return _node(one(open_), _or(one(future), one(closed)), _or(one(absent), nodate))
        if w.open_if_absent:
            return _node(one(closed), _or(one(absent), one(future), one(open_)), nodate)
        return _node(one(closed), _or(one(future), one(open_)), _or(one(absent), nodate))

    def p_within(self, a: str) -> _Node:
        return self._window(a, expired=False)

    def p_expired(self, a: str) -> _Node:
        return self._window(a, expired=True)

    def p_happened(self, a: str) -> _Node:
        # absent: has not happened; present but not a date (a pack-defined fact): unknown
        yes = one(self._s("pos", a, _cmp("$lte", "d", ASOF)))
        no = _or(one(self._s("neg", a)), one(self._s("pos", a, _cmp("$gt", "d", ASOF))))
        if not a.startswith("facts."):
            return _two_valued(yes, no)
        return _node(yes, no, one(self._s("pos", a, {"$nex": {"d": 1}})))

    def p_compare(self, a: Mapping[str, Any]) -> _Node:
        # Documented refusal (docs/durable-rules.md): durable-rules compares a fact's field with
        # a constant or another fact's field, but cannot add months to a date, and the two days
        # are separate facts; a question with a `compare` is decided by the interpreter (the
        # plain definition), like a record with undated dates. This node is never evaluated.
        self.needs.interpreted = True
        return _const(False)

    def p_fact(self, a: Mapping[str, Any]) -> _Node:
        path, op, value = a["path"], a["op"], a["value"]
        if op in ("before", "on_or_before", "after", "on_or_after"):
            try:
                day = parse_date(value).toordinal()
            except ValueError:
                raise DurableEngineError(f"`fact` on `{path}`: `{value}` is not a date") from None
            yes, no = {"before": ("$lt", "$gte"), "on_or_before": ("$lte", "$gt"),
                       "after": ("$gt", "$lte"), "on_or_after": ("$gte", "$lt")}[op]
            # a value that is absent or not a date: unknown (runtime.fact)
            return _node(one(self._s("pos", path, _cmp(yes, "d", day))),
                         one(self._s("pos", path, _cmp(no, "d", day))),
                         one(self._s("neg", path, {"$ex": {"d": 1}})))
        # kinds kept apart (runtime.fact_*): a value whose kind no operand has is unknown, so
        # match / nomatch only look at the fields of the operands' kinds
        by_field: dict[str, set[Any]] = {}
        for v in ([value] if op in ("equals", "not_equals") else value):
            fc = _kind_field(v)
            if fc is not None:
                by_field.setdefault(fc[0], set()).add(fc[1])
        fields = sorted(by_field)
        hits = [{f: c} for f in fields for c in sorted(by_field[f], key=repr)]
        match = FALSE if not hits else one(self._s("pos", path, hits[0] if len(hits) == 1 else {"$or": hits}))
        nomatch = _or(*(one(self._s("pos", path, {"$ex": {f: 1}},
                                    *(_cmp("$neq", f, c) for c in sorted(by_field[f], key=repr))))
                        for f in fields))
        unknown = _or(one(self._s("neg", path)), one(self._s("pos", path, *({"$nex": {f: 1}} for f in fields))))
        if op in ("equals", "in"):
            return _node(match, nomatch, unknown)
        return _node(nomatch, match, unknown)

    # -- lists ----------------------------------------------------------------------------
    def _list(self, t: str, *conds: Mapping[str, Any]) -> _Lit:
        self.needs.types.add(t)
        return pos(t, *conds)

    def _live_consent(self, purpose: str, recipient: str | None, mv: int | None = None,
                      since_restriction: bool = False) -> _Lit:
        conds = [{"purpose": purpose}, _cmp("$lte", "given", ASOF), _cmp("$gt", "wd", ASOF)]
        if recipient is not None:
            conds.append({"rcp": recipient})
        if since_restriction:  # Art. 18(2), R6: given after the active restrictions were requested
            conds.append({"ar": 1})
        if mv is not None:  # the mechanism's status, folded in Python per as_of (_MV_*; runtime.mechanism_counts)
            conds.append({"mv": mv})
        return self._list("con", *conds)

    def _consent(self, purpose: str, recipient: str | None, since_restriction: bool = False) -> _Node:
        # N53: only a consent whose mechanism counts (mv 1) gives consent; an absent mechanism
        # in a pack declaring mechanisms (mv 2) is unknown; an invalid one (mv 0) is no consent
        valid = self._live_consent(purpose, recipient, _MV_YES, since_restriction)
        unsure = self._live_consent(purpose, recipient, _MV_UNKNOWN, since_restriction)
        return _node(one(valid), one(_flip(valid), _flip(unsure)), one(_flip(valid), unsure))

    def p_consent(self, a: str) -> _Node:
        return self._consent(a, None)

    def p_consent_for_question(self, a: Any) -> _Node:
        if self.q.purpose is None:
            return _const(False)
        rec = self.q.recipient if self.q.action is Action.SHARE else None
        return self._consent(self.q.purpose, rec, a == "since_restriction")

    def p_consent_withdrawn(self, a: str) -> _Node:
        if a == "any":
            # stratified: durable derives `dv cw_any` (and `dv cw_any_u`) in a first call (see _STRATA)
            self.needs.types.update({"con", "dv"})
            self.needs.strata.update({"cw_any", "cw_any_u"})
            yes, unsure = pos("dv", disc=("k", "cw_any")), pos("dv", disc=("k", "cw_any_u"))
            return _node(one(yes), one(_flip(yes), _flip(unsure)), one(_flip(yes), unsure))._replace(height=1)
        gone = self._list("con", {"purpose": a}, _cmp("$lte", "wd", ASOF))
        valid = self._live_consent(a, None, _MV_YES)
        unsure = self._live_consent(a, None, _MV_UNKNOWN)
        return _node(one(gone, _flip(valid), _flip(unsure)), _or(one(_flip(gone)), one(valid)),
                     one(gone, _flip(valid), unsure))

    def p_objection(self, a: str) -> _Node:
        live = [_cmp("$lte", "recv", ASOF), _cmp("$gt", "wd", ASOF)]
        # N44: 21(1) yields to compelling grounds documented by as_of; 21(2) is absolute
        art21_1 = self._list("obj", {"kind": "art21_1"}, *live, _cmp("$gt", "cg", ASOF))
        other = self._list("obj", _cmp("$neq", "kind", "art21_1"), *live)
        if a == "art21_1":
            return _two_valued(one(art21_1))
        if a != "any":
            return _two_valued(one(self._list("obj", {"kind": a}, *live)))
        # (no join test may sit inside a nested $or: see _pattern)
        return _two_valued(_or(one(art21_1), one(other)))

    def p_restriction(self, a: str) -> _Node:
        conds: list[Mapping[str, Any]] = [_cmp("$lte", "req", ASOF), _cmp("$gt", "lifted", ASOF)]
        if a != "active":
            conds.append({"ground": a})
        return _two_valued(one(self._list("res", *conds)))

    def p_erasure(self, a: str) -> _Node:
        if a == "requested":
            return _two_valued(one(self._list("era", _cmp("$lte", "recv", ASOF))))
        if a == "unanswered":  # N43: received and not answered by as_of
            return _two_valued(one(self._list("era", _cmp("$lte", "recv", ASOF), _cmp("$gt", "ans", ASOF))))
        if a == "verified":
            return _two_valued(one(self._list("era", _cmp("$lte", "ver", ASOF))))
        if a == "granted":  # R16: verified, and no compelling grounds documented by as_of
            return _two_valued(one(self._list("era", _cmp("$lte", "ver", ASOF), _cmp("$gt", "cg", ASOF))))
        raise DurableEngineError(f"`erasure: {a}` is not supported by the durable engine")

    def p_rights_request(self, a: str) -> _Node:
        if a == "pending_verification":  # received, neither verified nor answered by as_of
            era = self._list("era", _cmp("$lte", "recv", ASOF), _cmp("$gt", "ver", ASOF), _cmp("$gt", "ans", ASOF))
            rr = self._list("rr", _cmp("$lte", "recv", ASOF), _cmp("$gt", "ver", ASOF), _cmp("$gt", "ans", ASOF))
        elif a == "unanswered":  # received and not answered by as_of (N43)
            era = self._list("era", _cmp("$lte", "recv", ASOF), _cmp("$gt", "ans", ASOF))
            rr = self._list("rr", _cmp("$lte", "recv", ASOF), _cmp("$gt", "ans", ASOF))
        elif a == "unanswered_rights":  # the rights requests alone (N43)
            return _two_valued(one(self._list("rr", _cmp("$lte", "recv", ASOF), _cmp("$gt", "ans", ASOF))))
        else:
            raise DurableEngineError(f"`rights_request: {a}` is not supported by the durable engine")
        return _two_valued(_or(one(era), one(rr)))

    def p_unlisted(self, a: str) -> _Node:
        # a missing fact while the list is empty: unknown, never true (N47, R11)
        some = self._list(_LISTS[a][0])
        return _node(FALSE, one(some), one(_flip(some)))

    def p_legal_hold(self, a: str) -> _Node:
        conds: list[Mapping[str, Any]] = [_cmp("$lte", "placed", ASOF), _cmp("$gt", "rel", ASOF)]
        if self.q.action is Action.KEEP:  # R21: a hold naming scopes covers only those scopes
            scope = self.q.scope or self.pack.default_scope
            if not _ID.fullmatch(scope):
                raise DurableEngineError(f"scope `{scope}` cannot be a durable field name")
            conds.append({"$or": [{"allsc": 1}, {f"sc_{scope}": 1}]})
        return _two_valued(one(self._list("hold", *conds)))

    def p_legal_order(self, a: str) -> _Node:
        if self.q.recipient is None:
            return _const(False)
        return _two_valued(one(self._list("ord", {"rcp": self.q.recipient}, {"binding": 1},
                                          _cmp("$lte", "recv", ASOF))))

    def p_data_category(self, a: str) -> _Node:
        return _two_valued(one(self._list("dc", {"v": a})))

    def p_keep(self, a: Any) -> _Node:
        self.needs.types.add("k")
        return _node(one(pos("k", {"v": 1})), one(pos("k", {"v": 0})), one(neg("k")))

    # -- question constants (vocabulary), compared with ctx.asof --------------------------
    def _recipient(self, what: str) -> Any:
        r = self.v.recipients.get(self.q.recipient or "")
        if r is None:
            raise DurableEngineError(f"`{what}` needs a share question naming a known recipient")
        return r

    @staticmethod
    def _intervals(spans: Iterable[tuple[int | None, int | None]]) -> _Node:
        """asof inside one of the inclusive [lo, hi] day intervals (None = unbounded)."""
        merged: list[list[float]] = []
        for lo, hi in sorted(((-math.inf if lo is None else lo, math.inf if hi is None else hi) for lo, hi in spans)):
            if lo > hi:
                continue
            if merged and lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])

        def conj(lo: float, hi: float) -> Conj:
            lits = []
            if lo != -math.inf:
                lits.append(ctx("$gte", int(lo)))
            if hi != math.inf:
                lits.append(ctx("$lte", int(hi)))
            return frozenset(lits)

        inside = _absorb(conj(lo, hi) for lo, hi in merged)
        gaps, prev = [], -math.inf
        for lo, hi in merged:
            if lo != -math.inf:
                gaps.append(conj(prev if prev == -math.inf else prev + 1, lo - 1))
            prev = hi
        if prev != math.inf:
            gaps.append(conj(prev + 1, math.inf))
        return _node(inside, _absorb(gaps), FALSE)

    def _question_constant(self, k: str, a: Any) -> _Node:
        got = question_constant(k, a, self.q, self.pack)
        return _node(FALSE, FALSE, TRUE) if got is None else _const(got)

    def p_categories_beyond(self, a: Any) -> _Node:
        self._recipient("categories_beyond")
        return self._question_constant("categories_beyond", a)

    def p_shares_category(self, a: Any) -> _Node:
        self._recipient("shares_category")
        return self._question_constant("shares_category", a)

    def p_processor_dpa(self, a: Any) -> _Node:
        r = self._recipient("processor_dpa")
        if recipient_unknown(self.pack, self.q, "processor_dpa"):
            return _node(FALSE, FALSE, TRUE)
        if r.dpa_signed_on is None:
            return _const(False)
        end = None if r.dpa_ends_on is None else _day(r.dpa_ends_on)
        return self._intervals([(_day(r.dpa_signed_on), end)])

    def p_transfer(self, a: Any) -> _Node:
        r = self._recipient("transfer")
        if recipient_unknown(self.pack, self.q, "transfer"):
            return _node(FALSE, FALSE, TRUE)
        if r.eea:
            return _const(True)
        spans = []
        for t in r.transfers:
            m = self.v.transfer_mechanisms[t.mechanism]
            los = [_day(x) for x in (t.from_on, m.valid_from) if x is not None]
            his = [_day(x) for x in (t.until_on, m.valid_until) if x is not None]
            spans.append((max(los) if los else None, min(his) if his else None))
        return self._intervals(spans)

    def p_recipient_listed(self, a: Any) -> _Node:
        self._recipient("recipient_listed")
        return self._question_constant("recipient_listed", a)

    def p_recipient_serves(self, a: Any) -> _Node:
        self._recipient("recipient_serves")
        return self._question_constant("recipient_serves", a)

    def p_channel_electronic(self, a: Any) -> _Node:
        ch = self.v.channels.get(self.q.channel or "")
        if ch is None:
            raise DurableEngineError("`channel_electronic` needs a contact question naming a known channel")
        return _const(bool(ch.get("electronic")) == bool(a))


# first-stratum rules: derived fact name -> durable rule body (joined to the stratum-1 ctx), laid out as
# _pattern lays out patterns (join tests at top level, a nested group last). The `$not` must
# follow `w` (it reads w.purpose), so it cannot see the fact bound to `w`; harmless here, as
# that fact (withdrawn by as_of) can never be a live consent.
_STRATA: Mapping[str, list[dict[str, Any]]] = {
    # some purpose has a consent withdrawn by as_of and no live consent that counts or may count
    # (runtime.consent_withdrawn; mv 0 is no consent, N53)
    "cw_any": [
        {"c": {"$and": [{"t": "ctx"}, {"s": 1}]}},
        {"w": {"$and": [{"t": "con"}, {"$lte": {"wd": {"c": "asof"}}}, {"$and": [{"t": "con"}]}]}},
        {"n$not": {"$and": [{"t": "con"}, {"purpose": {"w": "purpose"}}, {"$lte": {"given": {"c": "asof"}}},
                            {"$gt": {"wd": {"c": "asof"}}}, {"$neq": {"mv": 0}}, {"$and": [{"t": "con"}]}]}},
    ],
    # some purpose has a withdrawn consent, no live consent that counts, and a live one whose
    # mechanism is not recorded (the unknown case of runtime.consent_withdrawn)
    "cw_any_u": [
        {"c": {"$and": [{"t": "ctx"}, {"s": 1}]}},
        {"w": {"$and": [{"t": "con"}, {"$lte": {"wd": {"c": "asof"}}}, {"$and": [{"t": "con"}]}]}},
        {"n$not": {"$and": [{"t": "con"}, {"purpose": {"w": "purpose"}}, {"$lte": {"given": {"c": "asof"}}},
                            {"$gt": {"wd": {"c": "asof"}}}, {"mv": 1}, {"$and": [{"t": "con"}]}]}},
        {"u": {"$and": [{"t": "con"}, {"purpose": {"w": "purpose"}}, {"$lte": {"given": {"c": "asof"}}},
                        {"$gt": {"wd": {"c": "asof"}}}, {"mv": 2}, {"$and": [{"t": "con"}]}]}},
    ],
}

# a consent's mechanism status on as_of (runtime.mechanism_counts: True, None, False), folded in
# Python like the recipient's DPA interval: it depends on the pack's table, the purpose and as_of
_MV_NO, _MV_YES, _MV_UNKNOWN = 0, 1, 2


class _Ruleset(NamedTuple):
    name: str
    plan: QuestionPlan
    effects: tuple[int, ...]
    definition: Mapping[str, Any]  # JSON-able, without actions
    keys: Mapping[str, tuple[Any, ...]]  # durable rule name -> (rule index, tag) | ("m", node, tag) | ("x", name)
    needs: _Needs
    per_rule: tuple[int, ...]  # durable rules per pack rule
    tables: Any  # decide.Tables for build_decision, when the core has them
    final: int  # the last stratum: the pack rules' own t/u/f rules run in it
    nodes: Mapping[int, tuple[int, ...]]  # stratum -> ids of the conditions materialised in it


def _walk(preds: Iterable[Pred]) -> Iterator[Pred]:
    for p in preds:
        yield p
        yield from _walk(p.children)


# --- durable's alpha stack ---------------------------------------------------------------------
#
# durable matches a fact against the ruleset's alpha network (a trie of the patterns' constant
# and join tests, identical tests under one parent shared) depth first, with a fixed stack of
# MAX_STACK pending nodes (events.c ``handleAlpha``): a node's children that the fact satisfies
# are all pushed before the first is visited, join tests always. A fact that satisfies more
# than 64 sibling tests along one path (e.g. ``facts.day after D`` for 64 different days D)
# makes durable fail with error 303 *while deciding a record*. _alpha_stack bounds that stack for
# every possible fact from the ruleset alone, so a pack that could overflow it is refused when
# its ruleset is built, before any record (tests/property/test_durable_agrees.py pins the bound
# against durable: 63 such days decide, 64 raise 303).

_CMP = {"$lt": lambda x, c: x < c, "$lte": lambda x, c: x <= c, "$gt": lambda x, c: x > c,
        "$gte": lambda x, c: x >= c, "$neq": lambda x, c: x != c}


def _chains(conds: list[Any]) -> list[list[str]]:
    """The alpha test sequences of a pattern's conditions (``$or`` branches are alternatives)."""
    out: list[list[str]] = [[]]
    for c in conds:
        (k, v), = c.items()
        if k == "$and":
            subs = _chains(list(v))
        elif k == "$or":
            subs = [chain for b in v for chain in _chains([b])]
        else:
            subs = [[_j(c)]]
        out = [o + sub for o in out for sub in subs]
    return out


def _width(tests: Iterable[str]) -> int:
    """At most how many of these sibling tests one fact satisfies at once."""
    fields: dict[str, list[tuple[str, Any]]] = {}
    other = 0
    for t in tests:
        (k, v), = json.loads(t).items()
        if not k.startswith("$") and not isinstance(v, dict):
            fields.setdefault(k, []).append(("$eq", v))
            continue
        if k in _CMP and isinstance(v, dict) and len(v) == 1:
            (f, c), = v.items()
            if isinstance(c, (int, float)) and not isinstance(c, bool):
                fields.setdefault(f, []).append((k, c))
                continue
        other += 1  # join tests (always pushed), existence tests, anything else: count each
    total = other
    for ops in fields.values():
        nums = [c for op, c in ops if isinstance(c, (int, float)) and not isinstance(c, bool)]
        rest = sum(1 for op, c in ops if not (isinstance(c, (int, float)) and not isinstance(c, bool)))
        if rest and all(op == "$eq" for op, c in ops if not isinstance(c, (int, float)) or isinstance(c, bool)):
            rest = 1  # equalities with distinct non-numeric constants: one at most
        best = 0
        for x in {y for c in nums for y in (c - 0.5, c, c + 0.5)} | {-math.inf, math.inf}:
            best = max(best, sum(1 for op, c in ops if (isinstance(c, (int, float)) and not isinstance(c, bool))
                                 and (_CMP[op](x, c) if op != "$eq" else x == c)))
        total += best + rest
    return total


def _alpha_stack(definition: Mapping[str, Any]) -> tuple[int, set[str]]:
    """(an upper bound of durable's alpha stack for any fact, the durable rules on its worst path)."""
    trie: dict[str, Any] = {}
    users: dict[int, set[str]] = {}
    for rname, rule in definition.items():
        for alias in rule["all"]:
            (_, pattern), = alias.items()
            for chain in _chains([pattern]):
                node = trie
                for test in chain:
                    node = node.setdefault(test, {})
                    users.setdefault(id(node), set()).add(rname)
    best: tuple[int, set[str]] = (0, set())
    path: list[dict[str, Any]] = []  # the nodes whose children are pending

    def walk(node: dict[str, Any], pending: int) -> None:
        nonlocal best
        if not node:
            return
        here = pending + _width(node)
        path.append(node)
        if here > best[0]:
            best = (here, {r for n in path for child in n.values() for r in users[id(child)]})
        for child in node.values():
            walk(child, here - 1)
        path.pop()

    walk(trie, 0)
    return best


def _translate(pack: Pack, q: Question, name: str, max_rules: int, lang: str) -> _Ruleset:
    rules = tuple(r for r in pack.rules if targets(r, q, pack))
    needs = _Needs()
    tr = _Translator(pack, q, needs)
    definition: dict[str, Any] = {}
    keys: dict[str, tuple[Any, ...]] = {}
    roots: list[tuple[int, _Node, int]] = []  # (rule index, condition, materialised nodes so far)
    for i, rule in enumerate(rules):
        try:
            node = tr.node(Pred(kind="all", children=rule.when))
        except _TooComplex:
            raise RuleLimitExceeded(
                f"pack `{pack.id}`, question `{q}`: rule `{rule.id}` is too complex for the durable engine "
                f"(its conditions expand to more than {_MAX_CONJUNCTIONS} alternatives); "
                "use the default compiled engine for this pack") from None
        except DurableEngineError as exc:
            raise DurableEngineError(f"pack `{pack.id}`, question `{q}`, rule `{rule.id}`: {exc}") from None
        roots.append((i, node, len(tr.materialised)))
    final = 1 + max([s for _, s, _ in tr.materialised] + [1 if needs.strata else 0])
    counts = [0] * len(rules)

    owner: dict[str, int] = {}  # durable rule name -> the pack rule it translates

    def add(prefix: str, key: Any, node: _Node, stratum: int, rule: int) -> int:
        n = 0
        for tag, dnf in (("t", node.T), ("u", node.U), ("f", node.F)):
            for j, conj in enumerate(dnf):
                for m, body in enumerate(_emit(conj, stratum)):
                    rname = f"{prefix}{tag}{j}_{m}"
                    definition[rname] = {"all": body}
                    keys[rname] = (*key, tag) if isinstance(key, tuple) else (key, tag)
                    owner[rname] = rule
                    n += 1
        return n

    first = 0
    for i, node, upto in roots:
        counts[i] += add(f"r{i}", i, node, final, i)
        for k, stratum, sub in tr.materialised[first:upto]:  # the conditions this rule materialised
            counts[i] += add(f"m{k}", ("m", k), sub, stratum, i)
        first = upto
    nodes: dict[int, list[int]] = {}
    for k, stratum, _ in tr.materialised:
        nodes.setdefault(stratum, []).append(k)
    for derived in sorted(needs.strata):
        definition[f"x_{derived}"] = {"all": copy.deepcopy(_STRATA[derived])}
        keys[f"x_{derived}"] = ("x", derived)
    definition["done"] = {"all": [{"c": {"$and": [{"t": "ctx"}, {"s": final}]}}]}
    keys["done"] = ("done", "")
    # "handles" every fact (so MessageNotHandledException cannot happen) and never fires
    definition["sentinel"] = {"all": [{"m": {"$ex": {"t": 1}}}, {"z": {"t": "~never"}}]}
    keys["sentinel"] = ("sentinel", "")
    definition["flush"] = {"all": [{"f": {"t": "~flush"}}]}
    keys["flush"] = ("flush", "")
    if len(definition) > max_rules:
        top = sorted(zip(counts, (r.id for r in rules)), reverse=True)[:3]
        raise RuleLimitExceeded(
            f"pack `{pack.id}`, question `{q}`: the durable engine needs {len(definition)} durable rules for the "
            f"{len(rules)} rules this question targets; at most {max_rules} fit in one ruleset (durable-rules 2.0.28 "
            "hangs creating rulesets of about 513 rules). Largest: "
            + ", ".join(f"`{rid}` ({n})" for n, rid in top)
            + ". Use the default compiled engine for this pack, or simplify those rules.")
    stack, hot = _alpha_stack(definition)
    if stack > MAX_STACK:
        owners = sorted({rules[owner[r]].id for r in hot if r in owner})
        raise RuleLimitExceeded(
            f"pack `{pack.id}`, question `{q}`: one fact could satisfy up to {stack} sibling conditions of the "
            f"durable ruleset at once; durable-rules 2.0.28 matches at most {MAX_STACK} (its MAX_STACK_SIZE, "
            "error 303 while deciding). Conditions of rule(s) "
            + ", ".join(f"`{rid}`" for rid in owners)
            + " test the same fact against many different constants (e.g. one date against many days). "
            "Use the default compiled engine for this pack, or simplify those rules.")
    values: dict[str, Any] = {"question": q, "rules": rules,
                              "needs_keep": any(p.kind == "keep" for r in rules for p in _walk(r.when)),
                              "source": json.dumps(definition, indent=1, sort_keys=True)}
    # evaluate / decide / any other callable of the compiled plan: not callable on a durable plan
    plan = QuestionPlan(**{f.name: values.get(f.name, _no_evaluate) for f in dataclasses.fields(QuestionPlan)})
    effects = tuple(EFFECT_CODE[r.effect] for r in rules)
    tables = _tables_for(pack, plan, lang) if _tables_for is not None else None
    return _Ruleset(name, plan, effects, definition, keys, needs, tuple(counts), tables, final,
                    {s: tuple(ks) for s, ks in nodes.items()})


def _no_evaluate(*_: Any) -> Any:
    raise DurableEngineError("a durable plan is evaluated by DurablePolicy.statuses, not called directly")


# --- the policy ---------------------------------------------------------------------------------


class DurablePolicy:
    """A Pack whose rule conditions are evaluated by durable-rules; same answers as ``Policy``.

    Thread-safe (one lock serialises every engine call), but slow (thousands, not hundreds of
    thousands, of decisions per second): use it as an oracle and for cross-checking, not on a
    hot path. Each instance registers its rulesets in durable's process-global tables and
    cannot remove them: build one per pack and keep it.
    """

    engine = "durable"

    def __init__(self, pack: Pack, *, lang: str = "en", max_rules: int = MAX_RULES) -> None:
        if lang not in ("en", "nb"):
            raise ValueError(f"lang must be `en` or `nb`, not `{lang}`")
        self._engine, self._core = _load_durable()
        self.pack = pack
        self.lang = lang
        self.max_rules = max_rules
        self._lock = threading.Lock()
        self._host = _host_class(self._engine)()
        self._prefix = f"pr{next(_INSTANCES)}_{id(self):x}"
        self._seq = itertools.count()
        self._sets: dict[Question, _Ruleset] = {}
        self._ctx: dict[date, dict[str, Any]] = {}
        self._box: list[Any] = [None]  # the current evaluation's fired set; actions append to it
        self._leaked = 0
        self._months = {w: pack.vocabulary.windows[w].months for w in pack.vocabulary.windows}
        self._mechs = mech_table(pack.vocabulary)
        # the ids a record may name and the facts it may hold, as Policy checks them
        self._ids = RecordIds(pack.vocabulary, declared_facts(pack))
        self._keep_q = Question.keep(pack.default_scope)
        self.standard_questions: tuple[Question, ...] = tuple(
            self.check_question(Question.parse(text)) for text in (pack.meta.get("questions") or ["keep"]))
        self.question_sets: Mapping[str, tuple[Question, ...]] = question_sets_of(pack.meta, self.check_question)
        self._derived: dict[frozenset[Any], DurablePolicy] = {}  # as Policy._derived (issue 11 item 2)
        self._ruleset(self._keep_q)  # fail fast: the keep question always exists

    def __repr__(self) -> str:
        return f"<DurablePolicy pack={self.pack.id!r} rulesets={len(self._sets)}>"

    # -- questions -------------------------------------------------------------------------
    def check_question(self, q: Question | str) -> Question:
        """The question (a Question or its text) with its default scope filled in; raises
        QuestionError on unknown ids (as ``Policy.check_question``)."""
        q = _as_question(q)
        v = self.pack.vocabulary
        if q.action is Action.KEEP:
            scope = q.scope or self.pack.default_scope
            _known("scope", scope, v.scopes)
            return q if q.scope else Question.keep(scope)
        _known("purpose", q.purpose, v.purposes)
        if q.action is Action.CONTACT:
            _known("channel", q.channel, v.channels)
        else:
            check_share_question(self.pack, q)  # as Policy: listed, or described (issue 11 item 2)
        return q

    def _for(self, qs: Iterable[Question]) -> "DurablePolicy":
        """As ``Policy._for``: a facade whose pack also holds the recipients ``qs`` describe."""
        try:
            got = engine_for(self.pack, qs, self._derived,
                             lambda p: DurablePolicy(p, lang=self.lang, max_rules=self.max_rules),
                             16)  # each holds durable rulesets: kept few
        except RecipientFactsError as exc:
            raise QuestionError(f"{exc} ({exc.code})") from None
        return self if got is None else got

    def with_register(self, register: RecipientRegister) -> "DurablePolicy":
        """As ``Policy.with_register``: the host's processor register in force (issue 11 item 4)."""
        return DurablePolicy(apply_register(self.pack, register), lang=self.lang, max_rules=self.max_rules)

    def plan(self, q: Question) -> tuple[QuestionPlan, tuple[int, ...]]:
        """(plan, effects) for a checked question; ``plan.source`` is the durable ruleset as JSON."""
        rs = self._ruleset(q)
        return rs.plan, rs.effects

    def definition(self, q: Question) -> dict[str, Any]:
        """A copy of the durable ruleset (JSON-able, without actions) for a checked question."""
        return copy.deepcopy(dict(self._ruleset(q).definition))

    def _ruleset(self, q: Question) -> _Ruleset:
        rs = self._sets.get(q)
        if rs is not None:
            return rs
        with self._lock:
            rs = self._sets.get(q)
            if rs is None:
                rs = _translate(self.pack, q, f"{self._prefix}_{len(self._sets)}", self.max_rules, self.lang)
                self._register(rs)
                self._sets[q] = rs
        return rs

    def _register(self, rs: _Ruleset) -> None:
        box = self._box

        def action(key: tuple[Any, str]) -> Any:
            def run(c: Any) -> None:  # exactly one parameter: two would make durable treat it as async
                box[0].add(key)
            return run

        full = copy.deepcopy(dict(rs.definition))  # set_rulesets deletes `run` from what it is given
        for rname, body in full.items():
            body["run"] = action(rs.keys[rname])
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=DeprecationWarning)
                self._host.set_rulesets({rs.name: full})
        except self._core.error as exc:
            raise DurableEngineError(self._create_error(rs, exc)) from None

    def _create_error(self, rs: _Ruleset, exc: Exception) -> str:
        code = _code(exc)
        what = _ERROR_CODES.get(code, "unknown error") if code is not None else str(exc)
        culprit = None
        for rname, body in rs.definition.items():  # find the first rule durable refuses on its own
            probe = f"{rs.name}_probe_{rname}"
            try:
                self._host.set_rulesets({probe: {rname: dict(copy.deepcopy(body), run=lambda c: None)}})
            except Exception:  # noqa: BLE001 - any failure names the culprit
                culprit = rname
                break
        who = ""
        if culprit is not None:
            idx = rs.keys[culprit][0]
            who = (f" in rule `{rs.plan.rules[idx].id}` (durable rule `{culprit}`)" if isinstance(idx, int)
                   else f" in durable helper rule `{culprit}`")
        return (f"durable-rules could not create the ruleset for pack `{self.pack.id}`, question "
                f"`{rs.plan.question}`: error {code} ({what}){who}")

    def _context(self, as_of: date, windows: Iterable[str]) -> dict[str, Any]:
        base = self._ctx.get(as_of)
        if base is None:
            if len(self._ctx) >= _MAX_CTX:
                self._ctx.clear()
            base = {"asof": as_of.toordinal()}
            base.update({f"cut_{w}": cutoff(as_of, m).toordinal() for w, m in self._months.items()})
            self._ctx[as_of] = base
        out = {"t": "ctx", "asof": base["asof"]}
        out.update({f"cut_{w}": base[f"cut_{w}"] for w in windows})
        return out

    # -- evaluation ------------------------------------------------------------------------
    def _facts_for(self, rs: _Ruleset, facts: Facts, keep_code: bool | None, asof: str) -> list[dict[str, Any]]:
        needs = rs.needs
        out: list[dict[str, Any]] = []
        for path in sorted(needs.paths):
            value = facts.role if path == "role" else facts.s.get(path)
            if value is not None:
                f = _scalar_fact(path, value)
                if f is not None:
                    out.append(f)
        if "subj" in needs.types and facts.subjects is not None:
            f = {"t": "subj"}
            f.update({f"c_{c}": int(c in facts.subjects) for c in sorted(needs.categories)})
            out.append(f)
        if "dc" in needs.types:
            out.extend({"t": "dc", "i": i, "v": c} for i, c in enumerate(sorted(facts.data_categories)))
        for t in sorted(needs.types):
            if t in _TYPE_LIST:
                out.extend(_list_facts(facts, _TYPE_LIST[t], self._mechs, asof))
        if "k" in needs.types and keep_code is not None:
            out.append({"t": "k", "v": 1 if keep_code else 0})
        return out

    def _evaluate(self, rs: _Ruleset, facts: Facts, as_of: date, keep_code: bool | None) -> tuple[Any, ...]:
        """Rule statuses (True / False / None) for one question, computed by durable.

        A record with undated dates (``{"on_or_before": D}``) is routed as ``Policy`` routes it:
        to the interpreter, which evaluates each condition over the days a date may be. Day
        numbers in durable facts are exact days; intervals are not translated.
        """
        if facts.undated or rs.needs.interpreted:
            cuts = {w: iso_cutoff(as_of, m) for w, m in self._months.items()}
            return interpret.statuses(rs.plan.rules, self.pack, rs.plan.question, facts, as_of.isoformat(), cuts,
                                      keep_code)
        pending = self._facts_for(rs, facts, keep_code, as_of.isoformat())
        ctx_fact = self._context(as_of, sorted(rs.needs.windows))
        fired: set[tuple[Any, ...]] = set()
        with self._lock:
            if self._leaked > _MAX_LEAKED:
                raise DurableEngineError(
                    f"{self._leaked} durable sessions could not be cleaned after engine errors; "
                    "this DurablePolicy refuses further work (build a new one, or restart the process)")
            sid = f"{self._prefix}.{next(self._seq)}"
            self._box[0] = fired
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*utcfromtimestamp.*")
                    try:
                        # one assert_facts call per stratum; the stratum's ctx fact comes last, so
                        # its rules see every fact they read (record facts, earlier conclusions)
                        for stratum in range(1, rs.final + 1):
                            self._assert(rs, sid, [*pending, dict(ctx_fact, s=stratum)], facts)
                            if stratum < rs.final:
                                pending = self._conclusions(rs, stratum, fired, facts)
                    finally:
                        self._cleanup(rs, sid, fired)
            finally:
                self._box[0] = None
        if ("done", "") not in fired:
            raise DurableEngineError(f"question `{rs.plan.question}`, record `{facts.id}`: the evaluation did not "
                                     "complete (durable did not fire its `done` rule)")
        statuses = []
        for i, rule in enumerate(rs.plan.rules):
            tags = {key[1] for key in fired if len(key) == 2 and key[0] == i}
            if len(tags) != 1:
                raise DurableEngineError(
                    f"pack `{self.pack.id}`, question `{rs.plan.question}`, record `{facts.id}`, rule `{rule.id}`: "
                    f"durable concluded {sorted(tags) or 'nothing'}; exactly one of t (holds), u (unknown), "
                    "f (does not hold) must fire. This is a bug in the durable translation.")
            statuses.append({"t": True, "u": None, "f": False}[tags.pop()])
        return tuple(statuses)

    def _conclusions(self, rs: _Ruleset, stratum: int, fired: set[tuple[Any, ...]], facts: Facts) -> list[dict[str, Any]]:
        """What durable concluded in ``stratum``, as the derived facts the next stratum reads."""
        out: list[dict[str, Any]] = []
        if stratum == 1:
            out.extend({"t": "dv", "k": key[1]} for key in sorted(fired, key=repr) if key[0] == "x")
        for k in rs.nodes.get(stratum, ()):
            tags = {key[2] for key in fired if len(key) == 3 and key[:2] == ("m", k)}
            if len(tags) != 1:
                raise DurableEngineError(
                    f"pack `{self.pack.id}`, question `{rs.plan.question}`, record `{facts.id}`: durable concluded "
                    f"{sorted(tags) or 'nothing'} for condition {k}; exactly one of t, u, f must fire. "
                    "This is a bug in the durable translation.")
            out.append({"t": "nd", "n": k, "v": tags.pop()})
        return out

    def _assert(self, rs: _Ruleset, sid: str, facts_list: list[dict[str, Any]], facts: Facts) -> None:
        payload = [dict(f, sid=sid) for f in facts_list]
        engine = self._engine
        where = f"pack `{self.pack.id}`, question `{rs.plan.question}`, record `{facts.id}`"
        # the durable exceptions embed the whole payload (personal data): never chain them
        try:
            state = self._host.assert_facts(rs.name, payload)
        except engine.MessageNotHandledException:
            raise DurableEngineError(f"{where}: durable handled none of the facts (the sentinel rule should "
                                     "handle every fact)") from None
        except engine.MessageObservedException:
            raise DurableEngineError(f"{where}: durable saw the same fact twice") from None
        except self._core.error as exc:
            code = _code(exc)
            raise DurableEngineError(
                f"{where}: durable-rules error {code} ({_ERROR_CODES.get(code or 0, 'unknown error')})") from None
        if isinstance(state, dict) and "exception" in state:
            raise DurableEngineError(f"{where}: an action failed inside durable-rules: {state['exception']}")

    def _cleanup(self, rs: _Ruleset, sid: str, fired: set[tuple[Any, str]]) -> None:
        """Delete the session. durable segfaults deleting a sid on which no action ever ran, so
        after a failure before any action, fire the ``flush`` rule first; if even that fails,
        leave the sid (one of durable's 1,024) rather than crash the process."""
        try:
            if not fired:
                self._host.assert_fact(rs.name, {"t": "~flush", "sid": sid})
                if ("flush", "") not in fired:
                    raise DurableEngineError("flush did not fire")
            self._host.delete_state(rs.name, sid)
        except Exception:  # noqa: BLE001 - cleanup must not mask the real error
            self._leaked += 1

    # -- public API (mirrors Policy: the same argument forms, errors and answers) ----------
    def facts(self, record: Any, scan: Any = None) -> Facts:
        """The checked, normalised record (a mapping, JSON text, or a PreparedRecord); raises
        RecordInvalid naming its problems, and nothing else whatever ``record`` is (as
        ``Policy.facts``: the form and the declared facts, PR340, then the vocabulary ids,
        PR321). A record prepared by this facade is not checked again; one prepared by a
        Policy is (its vocabulary may differ), from the record as it was given to ``prepare``."""
        if type(record) is PreparedRecord:
            got = facts_of(record, self._ids)
            if got is not None:
                return got
            record = original(record)
        try:
            if isinstance(record, (str, bytes, bytearray)):
                record = parse_record(record, scan)
            facts = normalize(record, self._ids)
        except RecordInvalid:
            raise
        except Exception as exc:  # noqa: BLE001 - a host object that breaks on access is a record problem
            raise RecordInvalid(record_id_of(record), (unreadable(exc, record_id_of(record)),)) from None
        unknown = id_problems(facts, self._ids)
        if unknown:
            raise RecordInvalid(facts.id, unknown)
        return facts

    def prepare(self, record: Any) -> PreparedRecord:
        """``record`` checked once, for ``decide``, ``decide_all`` and ``decide_batch`` of this
        facade (as ``Policy.prepare``); never raises for bad record data."""
        return prepare_record(record, self._ids, self.facts)

    def statuses(self, record: Any, question: Question | str, *, as_of: date | str) -> tuple[Any, ...]:
        """Per-rule statuses (True / False / None) in ``plan(question)[0].rules`` order.

        Raises ``records.RecordInvalid`` for a record that cannot be evaluated.
        """
        day = parse_as_of(as_of)
        q = self.check_question(question)
        return self._statuses_facts(self.facts(record), q, day)[0]

    def _statuses_facts(self, facts: Facts, q: Question, as_of: date) -> tuple[tuple[Any, ...], Decision | None]:
        rs = self._ruleset(q)
        keep_code, kd = None, None
        if rs.plan.needs_keep:
            kd = self._decide_facts(facts, self._keep_q, as_of)
            keep_code = {Outcome.ALLOW: True, Outcome.DENY: False}.get(kd.outcome)
        return self._evaluate(rs, facts, as_of, keep_code), kd

    def _decide_facts(self, facts: Facts, q: Question, as_of: date) -> Decision:
        rs = self._ruleset(q)
        statuses, kd = self._statuses_facts(facts, q, as_of)
        keep_missing = kd.missing_facts if kd is not None else ()
        keep_problems = kd.problems if kd is not None else ()
        keep = {Outcome.ALLOW: True, Outcome.DENY: False}.get(kd.outcome) if kd is not None else None
        args = {"pack": self.pack, "plan": rs.plan, "tables": rs.tables, "effects": rs.effects, "lang": self.lang,
                "statuses": statuses, "facts": facts, "as_of": as_of, "asof": as_of.isoformat(),
                "keep_missing": keep_missing, "keep": keep, "keep_problems": keep_problems}
        return build_decision(**{k: v for k, v in args.items() if k in _BUILD_PARAMS})

    def decide(self, record: Any, question: Question | str, *, as_of: date | str) -> Decision:
        """The explained Decision for one question about one record (as ``Policy.decide``)."""
        day = parse_as_of(as_of)
        q = self.check_question(question)
        if q.recipient_facts is not None:
            other = self._for((q,))
            if other is not self:
                return other.decide(record, q, as_of=day)
        try:
            facts = self.facts(record)
        except RecordInvalid as exc:
            return self._invalid(q, day, exc.record_id, exc.problems)
        return self._decide_facts(facts, q, day)

    def decide_all(self, record: Any, questions: Iterable[Question | str] | None = None, *,
                   as_of: date | str, question_set: str | None = None) -> tuple[Decision, ...]:
        """As ``Policy.decide_all``: None means the pack's standard questions; ``question_set``
        one of the pack's named sets."""
        day = parse_as_of(as_of)
        qs = select_questions(questions, question_set, self.standard_questions, self.question_sets,
                              self.check_question)
        other = self._for(qs)
        if other is not self:
            return other.decide_all(record, qs, as_of=day)
        try:
            facts = self.facts(record)
        except RecordInvalid as exc:
            return tuple(self._invalid(q, day, exc.record_id, exc.problems) for q in qs)
        return tuple(self._decide_facts(facts, q, day) for q in qs)

    def answer(self, record: Any, question: Question | str, *, as_of: date | str) -> Answer:
        """The compact answer (outcome, decisive rule id, keep_until) for one question."""
        row = next(self.decide_batch([record], [question], as_of=as_of))
        return row.answers[0]

    def decide_batch(self, records: Iterable[Any], questions: Iterable[Question | str] | None = None, *,
                     as_of: date | str, reasons: bool = False,
                     question_set: str | None = None) -> Generator[BatchRow, None, None]:
        """Compact answers per record, as ``Policy.decide_batch``; never stops on a bad record.
        The arguments are checked before the first record is read."""
        day = parse_as_of(as_of)
        qs = select_questions(questions, question_set, self.standard_questions, self.question_sets,
                              self.check_question)
        check_records(records)
        other = self._for(qs)
        if other is not self:
            return other._batch(records, qs, day, reasons)
        return self._batch(records, qs, day, reasons)

    def _batch(self, records: Iterable[Any], qs: list[Question], as_of: date,
               reasons: bool = False) -> Generator[BatchRow, None, None]:
        sets = [self._ruleset(q) for q in qs]
        keep_rs = self._ruleset(self._keep_q)
        need_keep = any(rs.plan.needs_keep for rs in sets)
        windows = self.pack.vocabulary.windows
        asof = as_of.isoformat()
        cuts = {w: iso_cutoff(as_of, win.months) for w, win in windows.items()}
        detailers = [Detailer(self.pack, rs.plan, rs.tables, asof, cuts, None,
                              lambda facts, q=q: self._decide_facts(facts, q, as_of))  # type: ignore[misc]
                     for rs, q in zip(sets, qs)]
        details = [d.detail if reasons else None for d in detailers]
        scan = new_scanner()
        for index, record in enumerate(records):
            try:
                facts = self.facts(record, scan)
            except RecordInvalid as exc:
                yield BatchRow(index, exc.record_id, bad_answers(len(qs), exc.problems, reasons), _problem_text(exc.problems))
                continue
            keep_code = None
            keep_problems: tuple[Diagnostic, ...] = ()
            if need_keep:
                keep_statuses = self._evaluate(keep_rs, facts, as_of, None)
                ko, _, _ = combine(keep_rs.effects, keep_statuses)
                keep_code = True if ko == ALLOW_S else (False if ko != UND_S else None)
                if keep_code is None:
                    keep_problems = fact_problems(pack=self.pack, plan=keep_rs.plan, tables=keep_rs.tables,
                                                  statuses=keep_statuses, facts=facts, asof=asof)
            answers = []
            for rs, q, detail, detailer in zip(sets, qs, details, detailers):
                statuses = self._evaluate(rs, facts, as_of, keep_code)
                outcome, idx, why = combine(rs.effects, statuses)
                until = None
                problem = None
                if outcome == ALLOW_S and q.action is Action.KEEP:
                    tier = OVERRIDE if why == "override" else PERMIT
                    until = keep_until_for(rs.plan, statuses, tier, rs.effects, windows, facts, asof)
                elif detail is None and why in ("no-basis", "forbid"):  # a deny after a window ended: the day
                    until = detailer.ended_until(statuses, facts, why, idx)
                elif outcome == UND_S:  # the present facts that keep it open, as Policy.decide_batch names them
                    found = fact_problems(pack=self.pack, plan=rs.plan, tables=rs.tables, statuses=statuses,
                                          facts=facts, asof=asof, keep=keep_code,
                                          keep_problems=keep_problems if rs.plan.needs_keep else ())
                    problem = _problem_text(found) if found else None
                rule_id = rs.plan.rules[idx].id if idx is not None else None
                if detail is None:
                    answers.append(Answer(Outcome(outcome), rule_id, until, problem))
                else:
                    code, reason, basis, until = detail(outcome, idx, why, statuses, facts, until)
                    answers.append(Answer(Outcome(outcome), rule_id, until, problem, basis=basis, reason_code=code,
                                          reason=reason))
            yield BatchRow(index, facts.id, tuple(answers), None)

    def _invalid(self, q: Question, as_of: date, record_id: str | None,
                 problems: tuple[Diagnostic, ...]) -> Decision:
        return Decision(outcome=Outcome.UNDETERMINED, question=q, as_of=as_of, record_id=record_id,
                        pack_version=self.pack.version, reason=_invalid_reason(problems), problems=problems)


def _known(what: str, value: str | None, known: Mapping[str, Any]) -> None:
    if value not in known:
        import difflib

        close = difflib.get_close_matches(str(value), list(known), n=1, cutoff=0.6)
        hint = f"; did you mean `{close[0]}`?" if close else f"; known: {', '.join(sorted(known))}"
        raise QuestionError(f"unknown {what} `{value}`{hint}")


def _code(exc: Exception) -> int | None:
    m = re.search(r"error code: (\d+)", str(exc))
    return int(m.group(1)) if m else None
