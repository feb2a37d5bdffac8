"""Semantic lint: findings about a valid pack that a reviewer should look at (codes PR5xx).

Each check is a generator of Diagnostics (STYLE 6); ``iter_lint_problems`` chains them. Lint
never changes what a pack decides. Severity says how much it matters; `check --strict`
makes warnings fail. Codes are stable and documented in docs/codes.md.
"""

from __future__ import annotations

from datetime import date
from typing import Iterator

from ..load import LoadedYaml
from ..model import Diagnostic, Pack, Severity


def check_review_overdue(pack: Pack, head: LoadedYaml, as_of: date | None) -> Iterator[Diagnostic]:
    """PR560: the pack's next legal review (e.g. the LI balancing test, Art. 24(1)) is overdue."""
    review = pack.meta.get("review") or {}
    nxt = review.get("next_review")
    if as_of is None or not nxt:
        return
    if date.fromisoformat(nxt) < as_of:
        yield Diagnostic(
            code="PR560", severity=Severity.WARNING, span=head.span_for(("pack", "review", "next_review")),
            message=f"the pack's review was due on {nxt} and is overdue as of {as_of.isoformat()}",
            help="review the pack against the policy and the law (e.g. redo the legitimate-interest "
                 "balancing test), then update `review.reviewed_on` and `review.next_review`",
        )


def iter_lint_problems(pack: Pack, head: LoadedYaml, as_of: date | None = None) -> Iterator[Diagnostic]:
    """Every lint finding for ``pack``; ``as_of`` enables date-dependent checks (review overdue)."""
    yield from check_review_overdue(pack, head, as_of)
