"""Mapping profiles: how a host system's rows become canonical records (docs/mapping.md).

The pipeline (DESIGN.md, "Reaching hosts")::

    host rows -> privacy_rules.sources (readers) -> Profile.map_row -> canonical record -> Policy

Public API:

* ``load_profile(path_or_bundled_id, *, pack=None) -> Profile``: raises PackError (PR6xx
  diagnostics at file:line:col); ``check_profile(...) -> (Profile | None, diagnostics)`` never
  raises for user errors. With ``pack``, ids the profile writes are checked against it.
* ``Profile.map_row(row, *, known_on, time_zone, children=None, locator="") -> Mapped``: pure.
* ``Mapped(record, problems, locator, record_id)``: ``record`` is None when the row has
  problems (the row is undetermined).
* ``bundled_profiles()``: ``hubspot-export``, ``hubspot-api``, ``salesforce``, ``generic-csv``.

Modules, one job each: ``convert`` (host values -> canonical values), ``loader`` (YAML ->
schema -> checks -> Profile), ``_check`` (meaning checks), ``mapper`` (a row -> a record).
"""

from ._model import Mapped
from .loader import bundled_profiles, check_profile, load_profile
from .mapper import MAX_HOST_CHARS, Profile

__all__ = ["MAX_HOST_CHARS", "Mapped", "Profile", "bundled_profiles", "check_profile", "load_profile"]
