"""privacy-rules: may we keep this person's record, contact them, or share it, and why.

The public API, and nothing else (STYLE 2)::

    import privacy_rules
    from privacy_rules import Question
    from datetime import date

    pack = privacy_rules.load_pack("rules/iconfirm")        # load + validate, raises PackError
    policy = privacy_rules.compile_pack(pack)              # rules -> Python, once
    d = policy.decide(record, Question.contact("newsletter", "email"), as_of=date(2024, 2, 29))
    d.outcome, d.decisive_rule, d.basis, d.keep_until, d.obligations, d.missing_facts
    policy.decide_all(record, as_of=...)                   # the pack's standard questions: keep, contact, share
    for row in policy.decide_batch(records, questions, as_of=...):   # compact, streaming, never stops
        row.record_id, row.answers, row.problem

- ``load_pack(path) -> Pack``; ``check_pack(path) -> (Pack | None, diagnostics)`` never raises for
  user errors.
- ``compile_pack(pack, lang="en") -> Policy``; a Policy is immutable in effect and thread-safe.
- ``Policy.decide`` / ``decide_all`` / ``decide_batch``: pure functions of (record, question,
  as_of). ``as_of`` is required and keyword-only: the library never reads the clock.
- ``explain(decision, lang="en") -> str``: the decision for people.
- ``load_recipient_register(path) -> RecipientRegister``; ``policy.with_register(register)`` decides
  with the host's processor facts (DPA dates, transfers) in place of the pack's (issue 11).
- ``render_pack(pack, lang="en", fmt="html") -> str``: the review document for lawyers (HTML or
  Markdown), rules in combining order with their citations.
- Outcomes: ``Outcome.ALLOW``, ``DENY``, ``UNDETERMINED`` (a fact is missing or malformed; treat
  as deny unless you choose otherwise).
"""

from .errors import PackError, PrivacyRulesError
from .explain import explain
from .model import Action, Decision, Diagnostic, Outcome, Pack, Question, RecipientFacts
from .pack import load_pack, read_pack as check_pack
from .policy import Answer, BatchRow, Policy, QuestionError, compile_pack
from .recipients import RecipientFactsError, RecipientRegister, load_recipient_register

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .render import render_pack

__all__ = [
    "Action",
    "Answer",
    "BatchRow",
    "Decision",
    "Diagnostic",
    "Outcome",
    "Pack",
    "PackError",
    "Policy",
    "PrivacyRulesError",
    "Question",
    "QuestionError",
    "RecipientFacts",
    "RecipientFactsError",
    "RecipientRegister",
    "check_pack",
    "compile_pack",
    "explain",
    "load_pack",
    "load_recipient_register",
    "render_pack",
]


def __dir__() -> list[str]:
    return list(__all__)


def __getattr__(name: str) -> object:
    # PEP 562: the review document (jinja2 and its views, ~50 ms to import) is loaded when it is
    # first asked for, not by every host that only decides (issue 12: a fresh interpreter).
    if name == "render_pack":
        from .render import render_pack
        return render_pack
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
