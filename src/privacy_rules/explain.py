"""Decision -> text for people (the CLI's default output). Pure; never prints."""

from __future__ import annotations

from ._escape import escape
from .model import Decision, Outcome, RuleStatus

_MARK = {"allow": "ALLOW", "deny": "DENY", "undetermined": "UNDETERMINED"}


def explain(decision: Decision, *, lang: str = "en") -> str:
    """A readable, multi-line account of ``decision``: outcome, why, basis, dates, duties, rules.

    Record ids, rule text and problem messages are untrusted: each line is escaped on its own
    (``_escape.escape``), so no value can start a line or send terminal control sequences.
    """
    if not isinstance(decision, Decision):
        raise TypeError("explain takes a Decision (from Policy.decide or decide_all), not "
                        f"{type(decision).__name__}" + (": decide_batch's Answers are compact; call "
                                                        "policy.decide(record, question, as_of=...) for the "
                                                        "explained decision" if type(decision).__name__ == "Answer"
                                                        else ""))
    d = decision
    nb = lang == "nb"
    lines = [f"{d.record_id or '(no id)'}  {d.question}  as of {d.as_of.isoformat()}: {_MARK[d.outcome.value]}"]
    lines.append(f"  {'begrunnelse' if nb else 'why'}: {d.reason}")
    if d.basis:
        lines.append(f"  {'rettslig grunnlag' if nb else 'lawful basis'}: {d.basis.article} ({d.basis.id}"
                     + (f", {d.basis.dpv})" if d.basis.dpv else ")"))
    if d.keep_until and d.outcome is Outcome.DENY:  # deny:window-ended: the day the basis lapsed
        lines.append(f"  {'lagres til og med' if nb else 'keep until'}: {d.keep_until.isoformat()} "
                     f"({'fristen er ute' if nb else 'passed: the window has ended'})")
    elif d.keep_until:
        lines.append(f"  {'lagres til og med' if nb else 'keep until'}: {d.keep_until.isoformat()} "
                     f"({'siste dag' if nb else 'last day, inclusive'})")
    source = getattr(d, "recipient_source", None)
    if source:  # issue 11 item 4: which facts about the recipient the answer used
        words = {"pack": ("pakkens vokabular", "the pack's vocabulary"),
                 "register": ("vertens databehandlerregister", "the host's processor register"),
                 "question": ("spørsmålets recipient_facts", "the question's recipient_facts")}[source]
        lines.append(f"  {'mottakerens fakta fra' if nb else 'recipient facts from'}: {words[0] if nb else words[1]}")
    for o in d.obligations:
        due = f" by {o.due_on.isoformat()}" if o.due_on else ""
        art = f" ({o.article})" if o.article else ""
        lines.append(f"  {'plikt' if nb else 'obligation'}: {o.text}{due}{art}")
    if d.missing_facts:
        lines.append(f"  {'mangler' if nb else 'missing facts'}: " + ", ".join(d.missing_facts))
    for p in d.problems:
        lines.append(f"  problem: {p.code}: {p.message}" + (f" (help: {p.help})" if p.help else ""))
    if d.applied:
        lines.append(f"  {'regler' if nb else 'rules'}:")
        for a in d.applied:
            where = f"  [{a.span}]" if a.span else ""
            lines.append(f"    {a.status.value:<10} {a.effect.value:<10} {a.rule_id}{where}")
    cited = {rid: c for rid, c in d.citations}
    if d.decisive_rule and d.decisive_rule in cited:
        c = cited[d.decisive_rule]
        src = ", ".join(c.norms)
        arts = ", ".join(c.articles)
        lines.append(f"  {'hjemmel' if nb else 'rests on'}: {src}" + (f"; {arts}" if arts else "")
                     + (f"; {'punkt' if nb else 'section'} {c.section}" if c.section else ""))
        if c.quote:
            lines.append(f"    «{c.quote}»")
    return "\n".join(escape(line) for line in lines)


__all__ = ["explain", "RuleStatus"]
