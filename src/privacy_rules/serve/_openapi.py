"""The service's contract: an OpenAPI 3.1 document built from the JSON Schemas in schemas/.

The record, question and decision schemas are the ones the library validates against
(shipped as package data, ``privacy_rules/schemas/``); each becomes a component, its ``$defs``
components of their own (``Record_date`` ...), so that every ``$ref`` resolves inside the
document. The request and envelope schemas are written here. Pure: built once per server.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ._problems import CODES

_FROM_FILES = {"Record": "record.schema.json", "Question": "question.schema.json", "Decision": "decision.schema.json"}
_DAY = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$",
        "description": "A day, YYYY-MM-DD, in 1900-01-01..2200-12-31."}


def _schema(name: str) -> dict[str, Any]:
    text = resources.files("privacy_rules").joinpath("schemas", name).read_text(encoding="utf-8")
    return dict(json.loads(text))


def _rewrite(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/"):
                out[k] = f"#/components/schemas/{prefix}_{v[len('#/$defs/'):]}"
            else:
                out[k] = _rewrite(v, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite(v, prefix) for v in node]
    return node


def schema_components() -> dict[str, Any]:
    """Record, Question and Decision (and their $defs) as OpenAPI components."""
    out: dict[str, Any] = {}
    for comp, file in _FROM_FILES.items():
        s = _schema(file)
        for key in ("$schema", "$id"):
            s.pop(key, None)
        defs = s.pop("$defs", {})
        out[comp] = _rewrite(s, comp)
        for dname, d in defs.items():
            out[f"{comp}_{dname}"] = _rewrite(d, comp)
    return out


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _ref("Problem")}}}


def _errors(*statuses: int) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code, (status, title) in CODES.items():
        by_status.setdefault(status, []).append(f"{code} {title}")
    out: dict[str, Any] = {}
    for status in sorted(set(statuses) | {401, 503}):
        codes = by_status.get(status, ["PR3xx, PR6xx: the body or a profile has the problem the CLI reports"])
        if status == 400:
            codes = codes + ["PR307, PR309-PR313: the body is not usable JSON (as for a records-file line)",
                             "PR6xx: a profile problem"]
        out[str(status)] = _problem_response("; ".join(codes))
    return out


def build_openapi(*, max_batch: int, max_questions: int, token: bool, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a server with these limits (``token``: bearer auth on)."""
    comps = schema_components()
    question = {"oneOf": [{"type": "string", "description": "keep, keep:SCOPE, contact:PURPOSE:CHANNEL or "
                                                              "share:RECIPIENT:PURPOSE", "maxLength": 200},
                          _ref("Question")]}
    pack_ref = {"type": "object", "required": ["id", "version", "hash"], "properties": {
        "id": {"type": "string"}, "version": {"type": "string"},
        "hash": {"type": "string", "description": "the pack's content hash: Decision.pack_version"}}}
    comps.update({
        "DecideRequest": {
            "type": "object", "required": ["record", "as_of"], "additionalProperties": False,
            "properties": {
                "record": {**_ref("Record"), "description": "One canonical record (schemas/record.schema.json). "
                           "A record that is not valid gets undetermined answers naming the problem, not an error."},
                "as_of": {**_DAY, "description": "The day to decide for (required: the service never guesses it)."},
                "questions": {"type": "array", "items": question, "maxItems": max_questions,
                              "description": "Default: the pack's standard questions."},
                "question_set": {"type": "string", "description": "A question set the pack names (e.g. sweep); "
                                 "not with questions."},
            }},
        "PackRef": pack_ref,
        "DecideResponse": {"type": "object", "required": ["pack", "decisions"], "properties": {
            "pack": _ref("PackRef"), "decisions": {"type": "array", "items": _ref("Decision")}}},
        "Answer": {"type": "object", "required": ["question", "outcome"], "properties": {
            "question": {"type": "string"}, "outcome": {"enum": ["allow", "deny", "undetermined"]},
            "rule_id": {"type": ["string", "null"]}, "keep_until": {"type": ["string", "null"]},
            "problem": {"type": ["string", "null"]}, "basis": {"type": ["string", "null"]},
            "article": {"type": ["string", "null"]}, "reason_code": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]}}},
        "EvaluateLine": {"type": "object", "description": "One line per record, in input order, as `evaluate` "
                         "writes JSON Lines, plus pack_version. A last line {\"problem\": Problem} means the batch "
                         "stopped (the time limit).",
                         "properties": {
                             "line": {"type": ["integer", "null"]}, "record_id": {"type": ["string", "null"]},
                             "answers": {"type": "array", "items": _ref("Answer")},
                             "problem": {"type": ["string", "null", "object"]}, "row": {"type": "integer"},
                             "locator": {"type": "string"}, "pack_version": {"type": "string"}}},
        "PackInfo": {"type": "object", "required": ["id", "version", "hash", "standard_questions", "vocabulary"],
                     "properties": {
                         "id": {"type": "string"}, "version": {"type": "string"}, "hash": {"type": "string"},
                         "name": {"type": "string"}, "time_zone": {"type": "string"},
                         "default_scope": {"type": "string"},
                         "standard_questions": {"type": "array", "items": {"type": "string"}},
                         "question_sets": {"type": "object", "additionalProperties": {
                             "type": "array", "items": {"type": "string"}}},
                         "vocabulary": {"type": "object", "additionalProperties": {
                             "type": "array", "items": {"type": "string"}}},
                         "profiles": {"type": "array", "items": {"type": "string"}},
                         "rules": {"type": "integer"},
                         "recipient_register": {"type": ["string", "null"],
                                                "description": "the file name of --recipient-facts, if given"}}},
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
        "Ready": {"type": "object", "required": ["status", "pack"], "properties": {
            "status": {"const": "ready"}, "pack": _ref("PackRef")}},
        "Problem": {"type": "object", "description": "RFC 9457 problem details, with the diagnostic code",
                    "required": ["type", "title", "status", "detail", "code"], "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                        "detail": {"type": "string"}, "instance": {"type": "string"},
                        "code": {"type": "string", "pattern": "^PR[0-9]{3}$"}, "help": {"type": "string"}}},
    })
    security: list[dict[str, list[str]]] = [{"bearerAuth": []}] if token else []
    evaluate_params = [
        {"name": "as_of", "in": "query", "required": True, "schema": _DAY},
        {"name": "q", "in": "query", "required": False, "style": "form", "explode": True,
         "description": "A question (repeatable); default: the pack's standard questions.",
         "schema": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": max_questions}},
        {"name": "question_set", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100}},
        {"name": "profile", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100},
         "description": "A mapping profile the server offers (GET /v1/pack: profiles): records are host rows."},
        {"name": "known_on", "in": "query", "required": False, "schema": _DAY,
         "description": "With profile: the day the host's undated facts are known on (the export day)."},
        {"name": "reasons", "in": "query", "required": False, "schema": {"type": "boolean", "default": True},
         "description": "false leaves basis, article, reason_code and reason out: faster."},
    ]
    records = {"type": "array", "maxItems": max_batch, "items": {"oneOf": [_ref("Record"), {"type": "object"}]}}
    paths: dict[str, Any] = {
        "/v1/decide": {"post": {
            "operationId": "decide", "summary": "Explained decisions for one record",
            "security": security,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("DecideRequest")}}},
            "responses": {"200": {"description": "One decision per question, in order",
                                  "content": {"application/json": {"schema": _ref("DecideResponse")}}},
                          **_errors(400, 413, 415, 504)}}},
        "/v1/evaluate": {"post": {
            "operationId": "evaluate", "summary": "Compact answers for a batch of records, streamed as NDJSON",
            "security": security, "parameters": evaluate_params,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"oneOf": [records, {
                    "type": "object", "required": ["records"], "properties": {"records": records}}]}},
                "application/x-ndjson": {"schema": {"type": "string", "description": "one record per line"}}}},
            "responses": {"200": {"description": "One line per record, in input order",
                                  "content": {"application/x-ndjson": {"schema": _ref("EvaluateLine")}}},
                          **_errors(400, 413, 415)}}},
        "/v1/pack": {"get": {"operationId": "pack", "summary": "The pack being served", "security": security,
                             "responses": {"200": {"description": "id, version, hash, questions, vocabulary",
                                                   "content": {"application/json": {"schema": _ref("PackInfo")}}},
                                           **_errors()}}},
        "/health": {"get": {"operationId": "health", "summary": "The process is up", "security": [],
                            "responses": {"200": {"description": "alive",
                                                  "content": {"application/json": {"schema": _ref("Health")}}}}}},
        "/ready": {"get": {"operationId": "ready", "summary": "Serving the pack on disk", "security": [],
                           "responses": {"200": {"description": "ready",
                                                 "content": {"application/json": {"schema": _ref("Ready")}}},
                                         "503": _problem_response("PR810: the last reload failed (the old pack "
                                                                  "still serves), or shutting down")}}},
        "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "security": security,
                             "responses": {"200": {"description": "Prometheus text format 0.0.4",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}},
                                           **_errors()}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": security,
                                  "responses": {"200": {"description": "OpenAPI 3.1",
                                                        "content": {"application/json": {"schema": {
                                                            "type": "object"}}}}, **_errors()}}},
    }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "privacy-rules decision service", "version": version,
                 "description": "Keep / contact / share decisions with their reasons (docs/serve.md). Errors are "
                                "RFC 9457 problem details carrying privacy-rules diagnostic codes (docs/codes.md)."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {"schemas": comps},
    }
    if token:
        doc["components"]["securitySchemes"] = {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    return doc


__all__ = ["build_openapi", "schema_components"]
