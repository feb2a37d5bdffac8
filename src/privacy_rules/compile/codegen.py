"""Rules -> plain Python source, one function per question, compiled once.

Security (DESIGN, Compile): no string from a rule file is ever evaluated. Literals reach the
generated source only through ``repr`` of validated ids, paths and dates; anything else
(sets, recipients) is bound in the function's namespace under a generated name. Ids and
paths have been checked against the vocabulary and the record schema before this runs.

The generated function ``_eval(R, C, K)`` returns a tuple with one status per rule that the
question targets: True (holds), False (does not hold) or None (unknown: a fact is missing).
``R`` is a records.Facts, ``C`` the as_of context (ISO as_of and per-window cut-offs), ``K``
the keep outcome for contact/share questions that ask ``keep: allowed``.

Dates are exact days here: a record with an undated date (``{"on_or_before": D}``,
records.OnOrBefore) never reaches a generated evaluator as such. ``Policy._undated_statuses``
runs the evaluator on the record with each undated date set to one day of each stretch that
no condition can tell apart (compile/interpret.statuses_over_days), or past a cap takes the
interpreter; routing other records costs a test of ``Facts.undated`` (an empty mapping).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Protocol, TypeAlias

from ..model import Action, Effect, Pack, Pred, Question, Recipient, Rule
from ..question_facts import question_constant, recipient_unknown
from ..records import LIST_DATE_PATHS, LIST_FIELDS, Facts
from ..targets import targets
from . import runtime
from .runtime import Status

# The whitelist of strings that may appear as literals. Always used with fullmatch: `$` (and
# re.match) would also accept a trailing newline.
_SAFE_PATH = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?(\[\]\.[a-z_]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
# Kleene NOT of a constant status, folded while generating
_NOT = {"True": "False", "False": "True", "None": "None"}
#: bound on a question's memo of as_of-only values (one entry per as_of day asked)
_MAX_ASOF = 256


class CompileError(Exception):
    """A rule reached codegen with something validation should have refused (a bug)."""


class AsOfContext(Protocol):
    """``C`` of a generated evaluator: what depends only on as_of (policy._Ctx)."""

    @property
    def asof(self) -> str: ...  # as_of, ISO

    @property
    def cut(self) -> tuple[str, ...]: ...  # cut-off day (ISO) per window index (window_indices)


# (outcome, decisive rule index or None, why, statuses), as decide.combine plus the statuses
Combined: TypeAlias = tuple[str, int | None, str, tuple[Status, ...]]


@dataclass(frozen=True, slots=True)
class QuestionPlan:
    """What compile knows about one question: the rules it targets and their evaluator."""

    question: Question
    rules: tuple[Rule, ...]
    evaluate: Callable[[Facts, AsOfContext, Status], tuple[Status, ...]]
    # decide(R, C, K) -> (outcome, decisive index or None, why, statuses): evaluate + combine
    # fused, the combining order unrolled per question (equals decide.combine: property-tested)
    decide: Callable[[Facts, AsOfContext, Status], Combined]
    needs_keep: bool
    source: str


def _lit(value: Any) -> str:
    """A literal for generated code: only validated scalars, always through repr."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, str):
        if _SAFE_PATH.fullmatch(value) or _DATE.fullmatch(value) or _SAFE_NAME.fullmatch(value):
            return repr(value)
    raise CompileError(f"refusing to put `{value!r}` into generated code")


class _Gen:
    """Builds one evaluator. Cheap predicates are inlined; an expression used by two or more
    rules (the file-level ``role: controller``) is computed once into a local (CSE); event
    lists are bound to locals and an empty list short-circuits without a call."""

    def __init__(self, pack: Pack, question: Question, window_index: Mapping[str, int]) -> None:
        self.pack = pack
        self.q = question
        self.window_index = window_index
        self.ns: dict[str, Any] = {"_rt": runtime}
        self.needs_keep = False
        self._n = 0
        self._t = 0
        self.lists: set[str] = set()
        self.cuts: set[int] = set()
        self._mechs: str | None = None
        self.asof_exprs: dict[str, str] = {}  # code -> local name (asof_value)

    def const(self, value: Any) -> str:
        name = f"_k{self._n}"
        self._n += 1
        self.ns[name] = value
        return name

    def tmp(self) -> str:
        self._t += 1
        return f"t{self._t}"

    def lst(self, name: str) -> str:
        if name not in LIST_FIELDS:
            raise CompileError(f"unknown list `{name}`")
        self.lists.add(name)
        return f"L_{name}"

    def on_list(self, name: str, call: Callable[[str], str]) -> str:
        """``_rt.<call>`` on an event list, short-circuited to False when the list is empty."""
        lst = self.lst(name)
        return f"(_rt.{call(lst)} if {lst} else False)"

    def kleene(self, children: list[str], decisive: str, neutral: str) -> str:
        """Kleene AND (decisive "False", neutral "True") or OR ("True", "False") of generated
        expressions, folded where a child is a constant and otherwise written inline: the
        children are tested in order and the first decisive one ends it (they are pure), with no
        tuple built and no call (runtime.k_and/k_or are the plain definition)."""
        if decisive in children:
            return decisive
        rest = [c for c in children if c != neutral]
        if not rest:
            return neutral
        if len(rest) == 1:
            return rest[0]
        names = [self.tmp() for _ in rest]
        tests = "".join(f"{decisive} if ({t} := {c}) is {decisive} else " for t, c in zip(names, rest))
        unknown = " or ".join(f"{t} is None" for t in names)
        return f"({tests}(None if {unknown} else {neutral}))"

    def asof_value(self, code: str) -> str:
        """A value that depends on as_of alone (a DPA in force, a transfer lawful): computed once
        per as_of day for this question (``_kfill``), read by every record as a local."""
        name = self.asof_exprs.get(code)
        if name is None:
            name = f"a{len(self.asof_exprs)}"
            self.asof_exprs[code] = name
        return name

    def mechs(self) -> str:
        """The pack's consent-mechanism table (runtime.mech_table), bound once per evaluator."""
        if self._mechs is None:
            self._mechs = self.const(runtime.mech_table(self.pack.vocabulary))
        return self._mechs

    def cut(self, wi: int) -> str:
        self.cuts.add(wi)
        return f"CUT{wi}"

    def question_field(self, name: str, value: str | None) -> str:
        """A field the predicate's question kind always has: recipient predicates are share-only,
        ``channel_electronic`` contact-only (validate.semantic), and a checked question fills them."""
        if value is None:
            raise CompileError(f"question `{self.q}` has no {name}, which one of its rules needs")
        return value

    def recipient(self) -> Recipient:
        return self.pack.vocabulary.recipients[self.question_field("recipient", self.q.recipient)]

    # Each predicate compiles to an expression whose value is True, False or None.
    def expr(self, p: Pred) -> str:
        k, a = p.kind, p.arg
        v = self.pack.vocabulary
        if k == "all":
            return self.kleene([self.expr(c) for c in p.children], "False", "True")
        if k == "any":
            return self.kleene([self.expr(c) for c in p.children], "True", "False")
        if k == "not":
            child = self.expr(p.children[0])
            if child in _NOT:
                return _NOT[child]
            t = self.tmp()
            return f"(None if ({t} := {child}) is None else not {t})"
        if k == "role":
            return f"(None if ROLE is None else ROLE == {_lit(a)})"
        if k == "subject":
            ids = frozenset([a] if isinstance(a, str) else a)
            if len(ids) == 1:  # a set lookup costs less than a method call
                return f"(None if SUBJ is None else {_lit(next(iter(ids)))} in SUBJ)"
            return f"(None if SUBJ is None else not SUBJ.isdisjoint({self.const(ids)}))"
        if k in ("within", "expired"):
            w = v.windows[a]
            cut = self.cut(self.window_index[a])
            if w.is_list:
                name, idx = LIST_DATE_PATHS[w.anchor]
                lst = self.lst(name)
                upto = "None" if w.count_future else "A"
                return f"(_rt.l{k}({lst}, {idx}, {upto}, {cut}) if {lst} else False)"
            if w.anchor.startswith("facts."):  # pack-defined: validated as a date at run time
                return f"_rt.f{k}(S.get({_lit(w.anchor)}), A, {cut}, {_lit(w.open_if_absent)})"
            t = self.tmp()
            get = f"({t} := S.get({_lit(w.anchor)}))"
            if k == "within":
                if w.open_if_absent:
                    return f"(True if {get} is None or {t} > A else {t} >= {cut})"
                return f"(None if {get} is None else ({t} >= {cut} if {t} <= A else False))"
            if w.open_if_absent:
                return f"(False if {get} is None or {t} > A else {t} < {cut})"
            return f"(None if {get} is None else ({t} < {cut} if {t} <= A else False))"
        if k == "happened":
            if a.startswith("facts."):
                return f"_rt.fhappened(S.get({_lit(a)}), A)"
            t = self.tmp()
            return f"(({t} := S.get({_lit(a)})) is not None and {t} <= A)"
        if k == "consent":
            return self.on_list("consents", lambda L: f"consent({L}, {_lit(a)}, None, A, {self.mechs()})")
        if k == "consent_for_question":
            rec = self.q.recipient if self.q.action is Action.SHARE else None
            if a == "since_restriction":  # Art. 18(2), R6: only a consent given during the restriction
                after = f"_rt.restriction_began({self.lst('restrictions')}, A)"
                return self.on_list("consents", lambda L: f"consent({L}, {_lit(self.q.purpose)}, {_lit(rec)}, A, "
                                                          f"{self.mechs()}, {after})")
            return self.on_list("consents",
                                lambda L: f"consent({L}, {_lit(self.q.purpose)}, {_lit(rec)}, A, {self.mechs()})")
        if k == "consent_withdrawn":
            return self.on_list("consents", lambda L: f"consent_withdrawn({L}, {_lit(None if a == 'any' else a)}, A, "
                                                      f"{self.mechs()})")
        if k == "objection":
            return self.on_list("objections", lambda L: f"objection({L}, {_lit(None if a == 'any' else a)}, A)")
        if k == "restriction":
            return self.on_list("restrictions", lambda L: f"restriction({L}, {_lit(None if a == 'active' else a)}, A)")
        if k == "erasure":
            return self.on_list("erasure_requests", lambda L: f"erasure({L}, {_lit(a)}, A)")
        if k == "unlisted":  # a missing fact while the list is empty (N47, R11)
            return f"(False if {self.lst(a)} else None)"
        if k == "rights_request" and a == "unanswered_rights":  # the rights requests alone (N43)
            return self.on_list("rights_requests", lambda L: f"unanswered((), {L}, A)")
        if k == "rights_request":
            el, rl = self.lst("erasure_requests"), self.lst("rights_requests")
            fn = "pending_verification" if a == "pending_verification" else "unanswered"
            return f"(_rt.{fn}({el}, {rl}, A) if {el} or {rl} else False)"
        if k == "legal_hold":
            lst = self.lst("legal_holds")
            scope = (self.q.scope or self.pack.default_scope) if self.q.action is Action.KEEP else None
            return f"(_rt.legal_hold({lst}, {_lit(scope)}, A) if {lst} else False)"
        if k == "legal_order":
            lst = self.lst("disclosure_orders")
            return f"(_rt.legal_order({lst}, {_lit(self.q.recipient)}, A) if {lst} else False)"
        if k == "data_category":
            return f"({_lit(a)} in R.data_categories)"
        if k == "keep":
            self.needs_keep = True
            return "K"
        if k in ("processor_dpa", "transfer") and recipient_unknown(self.pack, self.q, k):
            return "None"  # an unlisted recipient described without this fact (issue 11 item 2)
        if k == "processor_dpa":
            r = self.recipient()
            return self.asof_value(f"_rt.in_force({_lit(r.dpa_signed_on)}, {_lit(r.dpa_ends_on)}, A)")
        if k == "transfer":
            r = self.recipient()
            if r.eea:
                return "True"
            spans = tuple(
                (t.from_on, t.until_on, v.transfer_mechanisms[t.mechanism].valid_from,
                 v.transfer_mechanisms[t.mechanism].valid_until)
                for t in r.transfers
            )
            return self.asof_value(f"_rt.transfer_lawful({self.const(spans)}, A)")
        if k in ("recipient_listed", "recipient_serves", "categories_beyond", "shares_category"):
            self.question_field("recipient", self.q.recipient)
            return _lit(question_constant(k, a, self.q, self.pack))
        if k == "channel_electronic":
            ch = v.channels[self.question_field("channel", self.q.channel)]
            return _lit(bool(ch.get("electronic")) == bool(a))
        if k == "compare":
            left, right = self.day(a["left"]), self.day(a["right"])
            return f"_rt.compare({left}, {right}, {_lit(a['op'])}, {_lit(a['if_absent'])})"
        if k == "fact":
            # the rule's side is analysed once here (kinds, sets); runtime.fact_* does the rest
            name, prepared = runtime.fact_operand(a["op"], a["value"])
            if name not in runtime.FACT_FUNCTIONS:
                raise CompileError(f"unknown `fact` operator `{a['op']}`")
            return f"_rt.{name}(S.get({_lit(a['path'])}), {self.const(prepared)})"
        raise CompileError(f"unknown predicate `{k}`")

    def day(self, operand: Any) -> str:
        """A `compare` operand as an expression: an ISO day, None (absent) or False (unusable)."""
        if operand == "as_of":
            return "A"
        if isinstance(operand, tuple):  # ("window_end", W): a scalar window (validate PR243)
            w = self.pack.vocabulary.windows[operand[1]]
            get = f"S.get({_lit(w.anchor)})"
            if w.anchor.startswith("facts."):
                get = f"_rt.fdate({get})"
            return f"_rt.wend({get}, A, {_lit(w.months)})"
        if operand.startswith("facts."):
            return f"_rt.fdate(S.get({_lit(operand)}))"
        return f"_rt.cday(S.get({_lit(operand)}))"

    @staticmethod
    def rule_block(i: int, conds: list[str]) -> list[str]:
        """Statements computing s{i}: Kleene AND of conds, stopping at the first false."""
        if "False" in conds:  # a condition false whatever the record: the rule never holds
            return [f"s{i} = False"]
        lines: list[str] = [f"s{i} = True"]
        indent = ""
        for c in conds:
            if c == "True":
                continue
            lines.append(f"{indent}x = {c}")
            lines.append(f"{indent}if x is False:")
            lines.append(f"{indent}    s{i} = False")
            lines.append(f"{indent}else:")
            indent += "    "
            lines.append(f"{indent}if x is None:")
            lines.append(f"{indent}    s{i} = None")
        if indent:
            lines.append(f"{indent}pass")
        return lines


def compile_question(pack: Pack, question: Question, window_index: Mapping[str, int]) -> QuestionPlan:
    """The plan for one (already checked) question: targeted rules and their generated evaluator."""
    rules = tuple(r for r in pack.rules if targets(r, question, pack))
    gen = _Gen(pack, question, window_index)
    conds = [[gen.expr(p) for p in rule.when] for rule in rules]
    # CSE: an expression two rules share is computed once, up front. Only expressions without
    # walrus temporaries qualify, so hoisting cannot reorder a temporary's assignment.
    counts: dict[str, int] = {}
    for cs in conds:
        for c in set(cs):
            counts[c] = counts.get(c, 0) + 1
    # constants and the as_of-only locals (aN) are already names or literals: nothing to hoist
    plain = set(_NOT) | set(gen.asof_exprs.values())
    shared = sorted(c for c, n in counts.items() if n > 1 and ":=" not in c and c not in plain)
    hoisted = {c: f"c{i}" for i, c in enumerate(shared)}
    never = frozenset(i for i, cs in enumerate(conds) if "False" in cs)  # rules that cannot hold
    body: list[str] = ["A = C.asof", "S = R.s", "ROLE = R.role", "SUBJ = R.subjects"]
    body += [f"L_{name} = R.lists[{_lit(name)}]" for name in sorted(gen.lists)]
    body += [f"CUT{wi} = C.cut[{wi}]" for wi in sorted(gen.cuts)]
    prelude = ""
    if gen.asof_exprs:
        # what depends on as_of alone, computed once per day (_kfill) and kept in ``_kc``
        names = ", ".join(gen.asof_exprs.values())
        body += ["KC = _kc.get(A)", "if KC is None:", "    KC = _kfill(A)", f"{names}, = KC"]
        prelude = ("def _kfill(A):\n"
                   f"    v = ({''.join(code + ', ' for code in gen.asof_exprs)})\n"
                   f"    if len(_kc) >= {_MAX_ASOF}:\n        _kc.clear()\n"
                   "    _kc[A] = v\n    return v\n\n")
        gen.ns["_kc"] = {}
    body += [f"{name} = {c}" for c, name in hoisted.items()]
    for i, rule in enumerate(rules):
        body.append(f"# {i}: {rule.id}")  # rule ids match a strict pattern; safe in a comment
        body.extend(gen.rule_block(i, [hoisted.get(c, c) for c in conds[i]]))
    statuses = ", ".join(f"s{i}" for i in range(len(rules)))
    tup = f"({statuses}{',' if len(rules) == 1 else ''})"
    src = prelude + "def _eval(R, C, K):\n" + "".join(f"    {line}\n" for line in body)
    src += f"    return {tup}\n\n"
    src += "def _decide(R, C, K):\n" + "".join(f"    {line}\n" for line in body)
    src += "".join(f"    {line}\n" for line in _combine_lines(rules, tup, never))
    ns = dict(gen.ns)
    code = compile(src, f"<privacy-rules {pack.id} {question}>", "exec")
    exec(code, ns)  # noqa: S102 - source built above from validated names and repr'd literals only
    return QuestionPlan(question=question, rules=rules, evaluate=ns["_eval"], decide=ns["_decide"],
                        needs_keep=gen.needs_keep, source=src)


def _combine_lines(rules: tuple[Rule, ...], tup: str, never: frozenset[int] = frozenset()) -> list[str]:
    """The combining order (docs section 3) unrolled for these rules; see decide.combine.
    Rules in ``never`` are False whatever the record (a condition folded to False): no test."""
    tier = {e: [i for i, r in enumerate(rules) if r.effect is e and i not in never] for e in Effect}
    ov, fb, pm = tier[Effect.OVERRIDE], tier[Effect.FORBID], tier[Effect.PERMIT]
    lines = [f"st = {tup}"]
    lines += [f"if s{i} is True: return 'allow', {i}, 'override', st" for i in ov]
    lines.append("ou = " + (" or ".join(f"s{i} is None" for i in ov) or "False"))
    lines += [f"if s{i} is True: return ('undetermined', None, 'unknown', st) if ou else ('deny', {i}, 'forbid', st)"
              for i in fb]
    lines.append("fu = " + (" or ".join(f"s{i} is None" for i in fb) or "False"))
    lines += [f"if s{i} is True: return ('undetermined', None, 'unknown', st) if fu else ('allow', {i}, 'permit', st)"
              for i in pm]
    lines.append("if ou or " + (" or ".join(f"s{i} is None" for i in pm) or "False") +
                 ": return 'undetermined', None, 'unknown', st")
    lines.append("return 'deny', None, 'no-basis', st")
    return lines


def window_indices(pack: Pack) -> Mapping[str, int]:
    return MappingProxyType({wid: i for i, wid in enumerate(sorted(pack.vocabulary.windows))})


__all__ = ["QuestionPlan", "compile_question", "targets", "window_indices", "CompileError", "LIST_FIELDS"]
