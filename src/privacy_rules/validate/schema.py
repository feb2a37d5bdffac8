"""Shape checks with JSON Schema (draft 2020-12), reported at the YAML line of the problem.

Every jsonschema error is mapped back to the file:line:col of the node it is about (never a
bare JSON pointer, STYLE 5) and rewritten into a message a rule author can act on.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match, relevance

from ..load import LoadedYaml
from ..model import Diagnostic, Severity
from ._schema_fast import Check, Unsupported, compile_check


PREDICATES = (
    "role", "subject", "within", "expired", "happened", "consent", "consent_for_question", "consent_withdrawn",
    "objection", "restriction", "erasure", "rights_request", "legal_hold", "legal_order", "data_category", "keep",
    "processor_dpa", "transfer", "recipient_serves", "recipient_listed", "channel_electronic", "fact", "all",
    "any", "not",
)


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft202012Validator:
    # Cached per schema name: the schemas ship with the package and never change at run time.
    text = resources.files("privacy_rules").joinpath("schemas", name).read_text(encoding="utf-8")
    schema = json.loads(text)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@lru_cache(maxsize=None)
def _fast_check(name: str) -> Check | None:
    # Cached like _validator; None when the schema uses what _schema_fast does not mirror. It
    # mirrors Draft202012Validator's keywords: a validator extended with other definitions
    # (jsonschema.validators.extend) is another class, and gets no fast check.
    validator = _validator(name)
    if type(validator) is not Draft202012Validator or not isinstance(validator.schema, Mapping):
        return None
    try:
        return compile_check(validator.schema, validator.format_checker)
    except Unsupported:
        return None


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (e.g. ``record.schema.json``) as shipped with the package."""
    return dict(_validator(name).schema)


def _rule_id(data: Any, path: tuple[Any, ...]) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
            rid = rules[path[1]].get("id")
            return rid if isinstance(rid, str) else None
    return None


def _message(err: ValidationError) -> tuple[str, str | None]:
    """(message, help) for one error, in the project's message style (STYLE 7)."""
    where = ".".join(str(p) for p in err.absolute_path) or "the file"
    v = err.validator
    if v == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list((err.schema.get("properties") or {}).keys())
        extra = sorted(k for k in err.instance if k not in allowed)
        key = extra[0] if extra else "?"
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        if "within" in allowed and "consent" in allowed:  # the predicate schema
            return f"`{where}`: unknown predicate `{key}`", (
                f"did you mean `{close[0]}`?" if close else "see the predicate table in docs/rule-language.md")
        hint = f"did you mean `{close[0]}`?" if close else (f"allowed keys: {', '.join(allowed)}" if allowed else None)
        return f"unknown key `{key}` in `{where}`", hint
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return f"`{where}` needs `{missing}`", None
    if v == "enum":
        return f"`{where}` is `{err.instance}`; expected one of {', '.join(map(str, err.validator_value))}", None
    if v == "const":
        return f"`{where}` must be `{err.validator_value}`", None
    if v == "pattern":
        return f"`{where}` value `{err.instance}` has the wrong form (expected pattern `{err.validator_value}`)", None
    if v == "type":
        return f"`{where}` must be of type {err.validator_value}, not `{json.dumps(err.instance)[:60]}`", None
    if v == "propertyNames" and isinstance(err.instance, dict) and len(err.instance) == 1:
        key = next(iter(err.instance))
        close = difflib.get_close_matches(str(key), PREDICATES, n=1, cutoff=0.6)
        return f"`{where}`: unknown predicate `{key}`", (
            f"did you mean `{close[0]}`?" if close else "see the predicate table in docs/rule-language.md")
    if v in ("minProperties", "maxProperties") and isinstance(err.instance, dict):
        return f"`{where}`: a condition is exactly one predicate (one key); split it into list items", None
    if v == "not":
        reason = err.validator_value.get("description") if isinstance(err.validator_value, dict) else None
        return f"`{where}`: {reason or 'not allowed here'}", None
    if v == "oneOf" and "is valid under each of" in err.message:
        return f"`{where}` fits more than one form; give only one of the alternatives (e.g. `months` or `years`)", None
    if v in ("oneOf", "anyOf") and isinstance(err.instance, dict) and len(err.instance) == 1:
        key = next(iter(err.instance))
        if key not in PREDICATES:
            close = difflib.get_close_matches(str(key), PREDICATES, n=1, cutoff=0.6)
            return f"`{where}`: unknown predicate `{key}`", (
                f"did you mean `{close[0]}`?" if close else "see the predicate table in docs/rule-language.md")
        return f"`{where}`: the value of predicate `{key}` has the wrong form", \
            "see the predicate table in docs/rule-language.md"
    return f"`{where}`: {err.message}", None


def iter_schema_errors(loaded: LoadedYaml, schema_name: str) -> Iterator[Diagnostic]:
    """Every schema problem in ``loaded``, most useful first within each location."""
    fast = _fast_check(schema_name)
    if fast is not None and fast(loaded.data):
        return  # valid; jsonschema would find nothing (it runs, ~10x slower, to explain an invalid file)
    validator = _validator(schema_name)
    errors = sorted(validator.iter_errors(loaded.data), key=lambda e: (list(map(str, e.absolute_path)), relevance(e)))
    seen: set[tuple[Any, ...]] = set()
    for err in errors:
        # best_match descends into oneOf/anyOf context to the most specific sub-error; for a
        # one-key predicate that matched no branch the parent error reads better (see _message)
        best = best_match([err]) if err.context else err
        if err.validator in ("oneOf", "anyOf") and len(best.absolute_path) <= len(err.absolute_path):
            best = err
        path = tuple(best.absolute_path)
        if path in seen:
            continue
        seen.add(path)
        message, help_ = _message(best)
        yield Diagnostic(
            code="PR100",
            severity=Severity.ERROR,
            message=message,
            span=loaded.span_for(path),
            rule_id=_rule_id(loaded.data, path),
            help=help_,
        )


def validate_instance(instance: Any, schema_name: str) -> list[str]:
    """Messages for a plain JSON instance (records, decisions in tests); empty when valid."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in _validator(schema_name).iter_errors(instance)]
