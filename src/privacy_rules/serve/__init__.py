"""``privacy-rules serve``: the decision service for hosts that are not Python (docs/serve.md).

A thin layer over :class:`~privacy_rules.Policy` (DESIGN.md): HTTP transport (Starlette on
uvicorn), limits, auth, hot reload, metrics and a decision log; no rule logic. Needs the
``serve`` extra (``pip install 'privacy-rules[serve]'``); nothing here is imported by the
library.

Modules, one job each: ``_config`` (settings), ``_snapshot`` (the pack being served and its
reload), ``_app`` (the ASGI app), ``_problems`` (RFC 9457 errors), ``_openapi`` (the contract),
``_metrics`` (Prometheus text), ``_decision_log`` (the audit log), ``_server`` (uvicorn).
"""

from ._app import Service
from ._config import ServeConfig, is_loopback
from ..decision_log import pseudonym
from ._openapi import build_openapi
from ._server import build_service, serve
from ._snapshot import RegisterError

__all__ = ["RegisterError", "ServeConfig", "Service", "build_openapi", "build_service", "is_loopback", "pseudonym", "serve"]
