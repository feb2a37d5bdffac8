"""Property-based fuzzing of the real server from its own OpenAPI document (schemathesis):
valid and invalid requests for every operation; no answer may be a server error (5xx), and
every answer must have a status, media type and body the document declares."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings

from ._server import Server

schemathesis = pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis (the `dev` extra)")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

#: examples per operation and mode; bounded to keep the suite fast (the API is small)
EXAMPLES = int(os.environ.get("SERVE_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _operations(server: Server) -> list[object]:
    doc = json.loads(server.get("/openapi.json")[2])
    schema = schemathesis.openapi.from_dict(doc)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors_and_answers_as_documented(server: Server, mode: GenerationMode) -> None:
    ops = _operations(server)
    assert {op.path for op in ops} >= {"/v1/decide", "/v1/evaluate", "/v1/pack"}  # type: ignore[attr-defined]
    for op in ops:
        if mode is GenerationMode.NEGATIVE and op.path not in ("/v1/decide", "/v1/evaluate"):  # type: ignore[attr-defined]
            continue  # nothing to make invalid: the GET endpoints take no input
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(generation_mode=mode))  # type: ignore[attr-defined]
        def check(case: object) -> None:
            response = case.call(base_url=server.url, timeout=30)  # type: ignore[attr-defined]
            case.validate_response(response, checks=CHECKS)  # type: ignore[attr-defined]

        check()
    # the fuzzer reached the deciding code, not only the request checks
    metrics = server.get("/metrics")[2].decode()
    status = "200" if mode is GenerationMode.POSITIVE else "400"
    for route in ("/v1/decide", "/v1/evaluate"):
        assert f'privacy_rules_http_requests_total{{method="POST",route="{route}",status="{status}"}}' in metrics
    assert 'status="5' not in metrics
