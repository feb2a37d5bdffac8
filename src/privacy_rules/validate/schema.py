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
from ._chars import describe, first_refused, visible
from ._schema_fast import Check, Unsupported, compile_check

# Every pattern in the schemas ends with this: `$` alone also matches before a final newline in
# Python's re (which jsonschema uses), so `keep.x\n` would pass `^...$`. The lookahead makes the
# pattern match the whole string in Python and ECMA-262 alike.
_WHOLE_STRING = "$(?![\\s\\S])"


PREDICATES = (
    "role", "subject", "within", "expired", "happened", "consent", "consent_for_question", "consent_withdrawn",
    "objection", "restriction", "erasure", "rights_request", "legal_hold", "legal_order", "data_category", "keep",
    "processor_dpa", "transfer", "recipient_serves", "recipient_listed", "channel_electronic", "fact", "compare", "all",
    "any", "not", "categories_beyond", "shares_category", "unlisted",
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
    schema = _validator(name).schema
    assert isinstance(schema, Mapping)  # INVARIANT: every shipped schema is an object (tests/unit/test_schemas.py)
    return dict(schema)


def _rule_id(data: Any, path: tuple[Any, ...]) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rules = data.get("rules") if isinstance(data, dict) else None
        if isinstance(rules, list) and path[1] < len(rules) and isinstance(rules[path[1]], dict):
            rid = rules[path[1]].get("id")
            return rid if isinstance(rid, str) else None
    return None


def _safe_rule_id(data: Any, path: tuple[Any, ...]) -> str | None:
    """The rule id for a diagnostic, or None when the id itself is malformed (it is in the message)."""
    rid = _rule_id(data, path)
    return rid if rid is not None and first_refused(rid) is None else None


def _message(err: ValidationError, predicates: bool = True) -> tuple[str, str | None]:
    """(message, help) for one error, in the project's message style (STYLE 7).

    ``predicates``: the schema is a rule file's, whose one-key objects are predicates, so an
    unknown one-key object reads "unknown predicate" (False for other schemas, e.g. profiles).
    """
    where = visible(".".join(str(p) for p in err.absolute_path), 200) or "the file"
    v = err.validator
    if not predicates:
        generic = _generic_message(err, where)
        if generic is not None:
            return generic
    if v == "additionalProperties" and isinstance(err.instance, dict):
        schema = err.schema if isinstance(err.schema, Mapping) else {}
        allowed = list((schema.get("properties") or {}).keys())
        extra = sorted(k for k in err.instance if k not in allowed)
        key = visible(extra[0]) if extra else "?"
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
        choices: Any = err.validator_value  # an enum keyword's value is the list of allowed values
        return f"`{where}` is `{visible(str(err.instance))}`; expected one of {', '.join(map(str, choices))}", None
    if v == "const":
        return f"`{where}` must be `{err.validator_value}`", None
    if v == "pattern":
        shown = visible(str(err.instance))
        if _is_key(err):
            return f"`{where}`: key `{shown}` has the wrong form", _pattern_help(err)
        return f"`{where}` value `{shown}` has the wrong form", _pattern_help(err)
    if v == "type":
        return f"`{where}` must be of type {err.validator_value}, not `{visible(json.dumps(err.instance), 60)}`", None
    if v == "propertyNames" and isinstance(err.instance, dict) and len(err.instance) == 1:
        key = visible(str(next(iter(err.instance))))
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
        key = visible(str(next(iter(err.instance))))
        if key not in PREDICATES:
            close = difflib.get_close_matches(str(key), PREDICATES, n=1, cutoff=0.6)
            return f"`{where}`: unknown predicate `{key}`", (
                f"did you mean `{close[0]}`?" if close else "see the predicate table in docs/rule-language.md")
        return f"`{where}`: the value of predicate `{key}` has the wrong form", \
            "see the predicate table in docs/rule-language.md"
    return f"`{where}`: {visible(err.message, 200)}", None


def _generic_message(err: ValidationError, where: str) -> tuple[str, str | None] | None:
    """Messages for schemas without predicates, where the rule-file wording would mislead."""
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        schema = err.schema if isinstance(err.schema, Mapping) else {}
        allowed = list((schema.get("properties") or {}).keys())
        extra = sorted(k for k in err.instance if k not in allowed)
        key = visible(extra[0]) if extra else "?"
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else (f"allowed keys: {', '.join(allowed)}" if allowed else None)
        if where == "the file":
            return f"unknown top-level key `{key}`", hint
        return f"unknown key `{key}` in `{where}`", hint
    if err.validator in ("oneOf", "anyOf", "propertyNames"):
        description = err.schema.get("description") if isinstance(err.schema, Mapping) else None
        return f"`{where}` has the wrong form", (
            f"expected {description[:1].lower()}{description[1:]}".rstrip(".") if description else None)
    return None


def _is_key(err: ValidationError) -> bool:
    """True when ``err`` is about a mapping key (``propertyNames``), not a value."""
    return "propertyNames" in err.schema_path


def _pattern_help(err: ValidationError) -> str | None:
    """The expected form: the schema's description of the value, or a short pattern as written."""
    description = err.schema.get("description") if isinstance(err.schema, dict) else None
    if description:
        return f"expected {description[:1].lower()}{description[1:]}".rstrip(".")
    pattern = str(err.validator_value).removesuffix(_WHOLE_STRING)
    return f"expected the pattern `{pattern}`" if len(pattern) <= 80 else None


_CHARACTER_CHECKS = frozenset({"pattern", "enum", "const", "anyOf", "oneOf"})


def _refused_character(err: ValidationError, loaded: LoadedYaml) -> Diagnostic | None:
    """PR212 for a string refused because of a control or invisible character, else None.

    Only for the checks such a character makes fail (a pattern, an enum, a const, or a choice
    between those); a wrong type is a PR100 whatever characters the value holds.
    """
    if err.validator not in _CHARACTER_CHECKS or not isinstance(err.instance, str):
        return None
    ch = first_refused(err.instance)
    if ch is None:
        return None
    path = tuple(err.absolute_path)
    where = visible(".".join(str(p) for p in path), 200) or "the file"
    what = "key" if _is_key(err) else "value"
    span = loaded.span_for(path + (err.instance,)) if _is_key(err) else loaded.span_for(path)
    rid = _rule_id(loaded.data, path)
    return Diagnostic(
        code="PR212", severity=Severity.ERROR, span=span,
        rule_id=rid if rid is not None and first_refused(rid) is None else None,
        message=f"`{where}`: {what} `{visible(err.instance)}` contains the invisible or control character "
                f"{describe(ch)}",
        help="remove it: ids, paths and versions are written in visible characters only, so that two that "
             "look the same are the same",
    )


def iter_schema_errors(loaded: LoadedYaml, schema_name: str, *, predicates: bool = True) -> Iterator[Diagnostic]:
    """Every schema problem in ``loaded``, most useful first within each location.

    Codes: PR100, or PR212 when a value or key fails its pattern because of a control or
    invisible character (so that the message can name the character). ``predicates=False``
    for schemas that are not about rule files (mapping profiles): their one-key objects are
    not predicates, and messages say so plainly.
    """
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
        refused = _refused_character(best, loaded)
        if refused is not None:
            yield refused
            continue
        message, help_ = _message(best, predicates)
        if _is_key(best) and isinstance(best.instance, str):
            path = path + (best.instance,)  # point at the key itself, not at its mapping
        elif not predicates and best.validator == "additionalProperties" and isinstance(best.instance, dict):
            extra = sorted(k for k in best.instance if k not in (best.schema.get("properties") or {}))
            if extra:
                path = path + (extra[0],)  # point at the unknown key, not at the mapping holding it
        yield Diagnostic(
            code="PR100",
            severity=Severity.ERROR,
            message=message,
            span=loaded.span_for(path),
            rule_id=_safe_rule_id(loaded.data, path),
            help=help_,
        )


def validate_instance(instance: Any, schema_name: str) -> list[str]:
    """Messages for a plain JSON instance (records, decisions in tests); empty when valid."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in _validator(schema_name).iter_errors(instance)]
