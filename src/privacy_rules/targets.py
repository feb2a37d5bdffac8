"""Whether a rule is about a question at all (its targets): shared by validate and compile.

A module of its own because both stages need it and validate must not import compile
(STYLE 1: imports go downwards only).
"""

from __future__ import annotations

from .model import Action, Pack, Question, Rule


def targets(rule: Rule, q: Question, pack: Pack) -> bool:
    """True when the rule's targets match the question; pure. A keep question without a scope
    asks about the pack's default scope."""
    if rule.question is not q.action:
        return False
    if q.action is Action.KEEP:
        return rule.scopes is None or (q.scope or pack.default_scope) in rule.scopes
    if rule.purposes is not None and q.purpose not in rule.purposes:
        return False
    if q.action is Action.CONTACT:
        return rule.channels is None or q.channel in rule.channels
    if rule.recipients is not None and q.recipient not in rule.recipients:
        return False
    if rule.recipient_kinds is not None:
        r = pack.vocabulary.recipients.get(q.recipient or "")
        return r is not None and r.kind in rule.recipient_kinds
    return True
