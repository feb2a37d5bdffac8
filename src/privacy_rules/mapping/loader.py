"""Read a mapping profile: YAML (safe, bounded, with spans) -> schema -> meaning -> a frozen Profile.

``load_profile`` is the stage boundary: it returns a :class:`~.mapper.Profile` that passed every
check or raises :class:`~privacy_rules.errors.PackError` with every error, each at its
``file:line:col`` (codes PR601-PR616, docs/codes.md). ``check_profile`` returns the same
diagnostics without raising, warnings included. A profile is named by a path, or by the id of
a bundled profile (``hubspot-export``, ``hubspot-api``, ``salesforce``, ``generic-csv``), which
ships as package data under ``privacy_rules/profiles/``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import re
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..errors import PackError
from ..load import LoadedYaml, load_yaml_file, load_yaml_text
from ..model import Diagnostic, Pack, Severity, Span
from ..validate.schema import iter_schema_errors
from ._check import iter_profile_problems, resolve_format
from ._model import Bound, ChildTable, Glob, Const, EventSpec, FieldSpec, FromField, Trigger, Undated, ValueMap
from .convert import DEFAULT_FALSE, DEFAULT_TRUE, Format, match_key
from .mapper import Profile

__all__ = ["BUNDLED", "bundled_profiles", "check_profile", "load_profile"]

#: Profile files are small: a bundled one is ~15 KB. The cap keeps a hostile file cheap.
MAX_PROFILE_BYTES = 500_000
_BUNDLED_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
#: The bundled profiles, by id (package data, privacy_rules/profiles/ID.yaml).
BUNDLED = ("hubspot-export", "hubspot-api", "salesforce", "generic-csv")


def bundled_profiles() -> tuple[str, ...]:
    """The ids of the profiles that ship with the package."""
    return BUNDLED


def load_profile(profile: str | os.PathLike[str], *, pack: Pack | None = None) -> Profile:
    """The checked Profile at path ``profile``, or the bundled profile with that id.

    With ``pack``, the ids the profile writes are checked against the pack's vocabulary too.
    Raises PackError with every error (warnings do not stop loading). Reads the one file.
    """
    result, diags = check_profile(profile, pack=pack)
    if result is None:
        raise PackError(tuple(d for d in diags if d.severity is Severity.ERROR) or diags)
    return result


def check_profile(profile: str | os.PathLike[str], *, pack: Pack | None = None) -> tuple[Profile | None,
                                                                                         tuple[Diagnostic, ...]]:
    """(profile or None, every diagnostic) for ``profile`` (a path or a bundled id). Never raises
    for user errors: a missing file is a PR001 diagnostic, an unknown bundled id PR616."""
    try:
        loaded = _load(profile)
    except PackError as exc:
        return None, exc.diagnostics
    diags = [_recode(d) for d in iter_schema_errors(loaded, "profile.schema.json", predicates=False)]
    if diags:
        return None, _sorted(diags)
    diags.extend(iter_profile_problems(loaded, pack))
    if any(d.severity is Severity.ERROR for d in diags):
        return None, _sorted(diags)
    return _build(loaded), _sorted(diags)


def _load(profile: str | os.PathLike[str]) -> LoadedYaml:
    text = os.fspath(profile)
    if _BUNDLED_NAME.fullmatch(text) and not Path(text).exists():
        if text not in BUNDLED:
            close = difflib.get_close_matches(text, BUNDLED, n=1, cutoff=0.6)
            raise PackError((Diagnostic(
                code="PR616", severity=Severity.ERROR, message=f"no bundled profile `{text}` and no such file",
                help=f"did you mean `{close[0]}`?" if close else f"bundled profiles: {', '.join(BUNDLED)}; "
                                                                "or give the path of a profile file"),))
        resource = resources.files("privacy_rules").joinpath("profiles", f"{text}.yaml")
        loaded = load_yaml_text(resource.read_text(encoding="utf-8"), path=f"<bundled>/{text}.yaml")
        raw = resource.read_bytes()
        return dataclasses.replace(loaded, sha256=hashlib.sha256(raw).hexdigest())
    return load_yaml_file(text, max_bytes=MAX_PROFILE_BYTES)


def _recode(d: Diagnostic) -> Diagnostic:
    # The schema machinery speaks in pack codes (PR100 shape, PR212 invisible character);
    # a profile's shape problems are PR601 so that CI rules can tell profiles from packs.
    if d.code in ("PR100", "PR212"):
        return dataclasses.replace(d, code="PR601", rule_id=None)
    return d


def _sorted(diags: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    def key(d: Diagnostic) -> tuple[str, int, int, str]:
        s = d.span or Span(file="", line=0, col=0)
        return (s.file, s.line, s.col, d.code)

    return tuple(sorted(diags, key=key))


# --- building the frozen profile ------------------------------------------------------------


def _format(raw: Any, formats: Mapping[str, Any]) -> Format:
    name = raw if isinstance(raw, str) else ""
    spec = resolve_format(raw, formats)
    assert spec is not None  # INVARIANT: the checker refused unknown format names (PR609)
    true_words = spec.get("true")
    false_words = spec.get("false")
    return Format(
        type=spec["type"], name=name, split=spec.get("split"), layouts=tuple(spec.get("layouts") or ()),
        naive_zone=spec.get("naive_zone"), epoch_ms=bool(spec.get("epoch_ms")),
        true_words=frozenset(w.strip().casefold() for w in (true_words or DEFAULT_TRUE)),
        false_words=frozenset(w.strip().casefold() for w in (false_words or DEFAULT_FALSE)),
    )


def _value_map(raw: Mapping[str, Any] | None, case_sensitive: bool) -> ValueMap | None:
    if raw is None:
        return None
    entries = {match_key(k, case_sensitive=case_sensitive): (tuple(v) if isinstance(v, list) else v)
               for k, v in raw.items()}
    return ValueMap(entries=MappingProxyType(entries), case_sensitive=case_sensitive)


def _pattern(text: str, case_insensitive: bool) -> Glob:
    # `*` is the only wildcard; everything else is literal: no regular expression from a profile.
    parts = tuple(p.casefold() if case_insensitive else p for p in text.split("*"))
    return Glob(parts=parts, fold=case_insensitive)


def _trigger(raw: Mapping[str, Any], formats: Mapping[str, Any], case_insensitive: bool) -> Trigger:
    case_sensitive = bool(raw.get("case_sensitive"))
    values = [raw["is"]] if "is" in raw else list(raw.get("in") or ())
    keys = tuple(match_key(v, case_sensitive=case_sensitive) if isinstance(v, str) else v for v in values)
    pattern_text = raw.get("fields")
    return Trigger(field=raw.get("field"), pattern=_pattern(pattern_text, case_insensitive) if pattern_text else None,
                   pattern_text=pattern_text, fmt=_format(raw.get("as"), formats), values=keys,
                   filled=bool(raw.get("filled")),
                   case_sensitive=case_sensitive, required=raw.get("required", True))


def _source(raw: Any, formats: Mapping[str, Any]) -> Const | FromField | Undated:
    if not isinstance(raw, Mapping):
        return Const(value=raw)
    if "on_or_before" in raw:
        return Undated(bound=raw["on_or_before"])
    return FromField(field=raw["field"], fmt=_format(raw.get("as"), formats),
                     value_map=_value_map(raw.get("map"), bool(raw.get("case_sensitive"))),
                     required=raw.get("required", True))


def _build(loaded: LoadedYaml) -> Profile:
    data = loaded.data
    meta = data["profile"]
    formats = data.get("formats") or {}
    case_insensitive = meta.get("field_names") == "case_insensitive"
    fields = []
    for host, spec in data["fields"].items():
        case_sensitive = bool(spec.get("case_sensitive"))
        flags = tuple((fact, frozenset(match_key(v, case_sensitive=case_sensitive) for v in values))
                      for fact, values in (spec.get("flags") or {}).items())
        fields.append(FieldSpec(host=host, to=spec.get("to"), fmt=_format(spec.get("as"), formats),
                                value_map=_value_map(spec.get("map"), case_sensitive), flags=flags,
                                case_sensitive=case_sensitive, required=spec.get("required", True),
                                span=loaded.span_for(("fields", host))))
    events = []
    for i, event in enumerate(data.get("events") or ()):
        when = event.get("when")
        conditions = [] if when is None else when if isinstance(when, list) else [when]
        triggers = [_trigger(c, formats, case_insensitive) for c in conditions]
        events.append(EventSpec(
            to=event["to"], child=event.get("from"),
            when=triggers[0] if triggers else None, also=tuple(triggers[1:]),
            entry=tuple((key, _source(raw, formats)) for key, raw in event["entry"].items()),
            span=loaded.span_for(("events", i))))
    bounds = {name: Bound(name=name, field=b["field"], fmt=_format(b["as"], formats), required=b.get("required", True))
              for name, b in (data.get("bounds") or {}).items()}
    children = {name: ChildTable(name=name, key=c["key"], parent_key=c.get("parent_key"),
                                 required=c.get("required", True), description=c.get("description", ""))
                for name, c in (data.get("children") or {}).items()}
    constants = {key: (tuple(value) if isinstance(value, list) else
                       MappingProxyType(dict(value)) if isinstance(value, dict) else value)
                 for key, value in (data.get("constants") or {}).items()}
    return Profile(
        id=meta["id"], title=meta["title"], vendor=meta.get("vendor"), description=meta.get("description"),
        source=loaded.path, version=loaded.sha256, record_id=meta["record_id"], case_insensitive=case_insensitive,
        unwrap=tuple((u["field"], u.get("prefix", "")) for u in (meta.get("unwrap") or ())),
        bounds=MappingProxyType(bounds), constants=MappingProxyType(constants), fields=tuple(fields),
        events=tuple(events), children=MappingProxyType(children),
    )
