"""A yes/no check compiled from a JSON Schema, for the common case of a valid file.

python-jsonschema spends ~10 us per value of a rule file (a 5,000-rule pack has ~270,000),
most of it building error machinery that a valid file never needs. ``compile_check`` turns a
draft 2020-12 schema into nested closures that only answer "valid?". ``iter_schema_errors``
asks it first and runs jsonschema only when it says no, so every diagnostic still comes from
jsonschema, and a file is accepted only if both would accept it.

Each keyword mirrors python-jsonschema's own definition (``jsonschema/_keywords.py``): the
same type rules (``1.0`` is an integer, ``True`` is not), the same equality for ``const``,
``enum`` and ``uniqueItems`` (``jsonschema._utils``), ``re.search`` for ``pattern`` and the
validator's own format checker. A schema that uses anything else (another draft, a remote or
``$anchor`` reference, a keyword not listed below) raises ``Unsupported``, and the caller then
uses jsonschema alone. tests/property/test_schema_fast.py compares the two on mutated files.
"""

from __future__ import annotations

import numbers
import re
from typing import Any, Callable, Mapping

from jsonschema import FormatChecker
from jsonschema._utils import equal, uniq

Check = Callable[[Any], bool]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

# Keywords that never make an instance invalid.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples",
                          "deprecated", "readOnly", "writeOnly"})
_KEYWORDS = frozenset({"$ref", "type", "enum", "const", "properties", "required", "additionalProperties",
                       "propertyNames", "minProperties", "maxProperties", "items", "minItems", "maxItems",
                       "uniqueItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
                       "allOf", "anyOf", "oneOf", "not", "if", "then", "else"})


class Unsupported(Exception):
    """The schema uses something this compiler does not mirror; validate with jsonschema alone."""


def _is_type(instance: Any, name: str) -> bool:
    # jsonschema/_types.py, draft 2020-12's TYPE_CHECKER
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if name == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if name == "number":
        return isinstance(instance, numbers.Number)
    raise Unsupported(f"type {name!r}")


def _true(instance: Any) -> bool:
    return True


def _false(instance: Any) -> bool:
    return False


def compile_check(schema: Mapping[str, Any], format_checker: FormatChecker | None) -> Check:
    """A function telling whether an instance is valid under ``schema`` (draft 2020-12); pure.

    Raises Unsupported when the schema needs something not mirrored here.
    """
    if schema.get("$schema") != DRAFT_2020_12:
        raise Unsupported(f"$schema {schema.get('$schema')!r}")
    return _Compiler(schema, format_checker).root()


class _Compiler:
    def __init__(self, root: Mapping[str, Any], format_checker: FormatChecker | None) -> None:
        self._root = root
        self._formats = format_checker
        # JSON pointer -> compiled check; a $ref compiles to a lookup here, so recursive
        # definitions (a predicate inside `all`) need no special case
        self._refs: dict[str, Check] = {}
        self._pending: list[str] = []

    def root(self) -> Check:
        check = self.compile(self._root, top=True)
        while self._pending:
            pointer = self._pending.pop()
            self._refs[pointer] = self.compile(self._resolve(pointer))
        return check

    def _resolve(self, pointer: str) -> Any:
        node: Any = self._root
        for part in pointer.split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise Unsupported(f"$ref #{pointer}")
        return node

    def _ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#") or (len(ref) > 1 and not ref.startswith("#/")):
            raise Unsupported(f"$ref {ref!r}")
        pointer = ref[1:]
        if pointer not in self._refs and pointer not in self._pending:
            self._resolve(pointer)  # fail now if it does not exist
            self._pending.append(pointer)
        refs = self._refs

        def check(instance: Any) -> bool:
            return refs[pointer](instance)
        return check

    def compile(self, schema: Any, top: bool = False) -> Check:
        if schema is True:
            return _true
        if schema is False:
            return _false
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        unknown = set(schema) - _KEYWORDS - _ANNOTATIONS
        if unknown:
            raise Unsupported(f"keywords {sorted(unknown)}")
        if "$id" in schema and not top:
            raise Unsupported("$id below the root")  # would change what a $ref means
        checks: list[Check] = []
        for keyword in schema:
            if keyword in _KEYWORDS and keyword not in ("then", "else"):
                checks.append(getattr(self, "_k_" + keyword.lstrip("$"))(schema[keyword], schema))
        if not checks:
            return _true
        if len(checks) == 1:
            return checks[0]
        all_checks = tuple(checks)

        def check(instance: Any) -> bool:
            for c in all_checks:
                if not c(instance):
                    return False
            return True
        return check

    # --- one method per keyword: (keyword value, the schema it is in) -> check --------------

    def _k_ref(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return self._ref(value)

    def _k_type(self, value: Any, schema: Mapping[str, Any]) -> Check:
        names = (value,) if isinstance(value, str) else tuple(value)
        for name in names:
            _is_type(None, name)  # Unsupported for an unknown type name
        if names == ("object",):
            return lambda instance: isinstance(instance, dict)
        if names == ("string",):
            return lambda instance: isinstance(instance, str)
        if names == ("array",):
            return lambda instance: isinstance(instance, list)
        return lambda instance: any(_is_type(instance, n) for n in names)

    def _k_enum(self, value: Any, schema: Mapping[str, Any]) -> Check:
        options = tuple(value)
        return lambda instance: any(equal(each, instance) for each in options)

    def _k_const(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: bool(equal(instance, value))

    def _k_properties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        props = {name: self.compile(sub) for name, sub in value.items()}

        def check(instance: Any) -> bool:
            if isinstance(instance, dict):
                for key, item in instance.items():
                    c = props.get(key)
                    if c is not None and not c(item):
                        return False
            return True
        return check

    def _k_required(self, value: Any, schema: Mapping[str, Any]) -> Check:
        names = tuple(value)
        return lambda instance: not isinstance(instance, dict) or all(n in instance for n in names)

    def _k_additionalProperties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        known = frozenset(schema.get("properties", {}))
        if isinstance(value, dict):
            sub = self.compile(value)
            return lambda instance: not isinstance(instance, dict) or \
                all(sub(v) for k, v in instance.items() if k not in known)
        if value:
            return _true
        return lambda instance: not isinstance(instance, dict) or all(k in known for k in instance)

    def _k_propertyNames(self, value: Any, schema: Mapping[str, Any]) -> Check:
        sub = self.compile(value)
        return lambda instance: not isinstance(instance, dict) or all(sub(k) for k in instance)

    def _k_minProperties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: not isinstance(instance, dict) or not len(instance) < value

    def _k_maxProperties(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: not isinstance(instance, dict) or not len(instance) > value

    def _k_items(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "prefixItems" in schema:
            raise Unsupported("prefixItems")
        if value is False:
            return lambda instance: not isinstance(instance, list) or not instance
        sub = self.compile(value)

        def check(instance: Any) -> bool:
            if isinstance(instance, list):
                for item in instance:
                    if not sub(item):
                        return False
            return True
        return check

    def _k_minItems(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: not isinstance(instance, list) or not len(instance) < value

    def _k_maxItems(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: not isinstance(instance, list) or not len(instance) > value

    def _k_uniqueItems(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if not value:
            return _true
        return lambda instance: not isinstance(instance, list) or bool(uniq(instance))

    def _k_minLength(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: not isinstance(instance, str) or not len(instance) < value

    def _k_maxLength(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: not isinstance(instance, str) or not len(instance) > value

    def _k_pattern(self, value: Any, schema: Mapping[str, Any]) -> Check:
        # jsonschema calls re.search(pattern, instance); a compiled pattern's search is the same
        search = re.compile(value).search
        return lambda instance: not isinstance(instance, str) or search(instance) is not None

    def _k_format(self, value: Any, schema: Mapping[str, Any]) -> Check:
        formats = self._formats
        if formats is None:
            return _true
        return lambda instance: formats.conforms(instance, value)

    def _k_minimum(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: not _is_type(instance, "number") or not instance < value

    def _k_maximum(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: not _is_type(instance, "number") or not instance > value

    def _k_allOf(self, value: Any, schema: Mapping[str, Any]) -> Check:
        subs = tuple(self.compile(s) for s in value)
        return lambda instance: all(s(instance) for s in subs)

    def _k_anyOf(self, value: Any, schema: Mapping[str, Any]) -> Check:
        subs = tuple(self.compile(s) for s in value)
        return lambda instance: any(s(instance) for s in subs)

    def _k_oneOf(self, value: Any, schema: Mapping[str, Any]) -> Check:
        subs = tuple(self.compile(s) for s in value)
        return lambda instance: sum(1 for s in subs if s(instance)) == 1

    def _k_not(self, value: Any, schema: Mapping[str, Any]) -> Check:
        sub = self.compile(value)
        return lambda instance: not sub(instance)

    def _k_if(self, value: Any, schema: Mapping[str, Any]) -> Check:
        cond = self.compile(value)
        then = self.compile(schema["then"]) if "then" in schema else _true
        else_ = self.compile(schema["else"]) if "else" in schema else _true
        return lambda instance: then(instance) if cond(instance) else else_(instance)
