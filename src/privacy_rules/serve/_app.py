"""The ASGI application: routes, limits, auth, metrics and the decision log around a Policy.

No rule logic lives here (DESIGN.md: the service is a thin layer over ``Policy``). Each
request takes the current :class:`~._snapshot.Snapshot` once, at its start, and decides on it
to the end, so a reload never changes a request half way; every answer names the pack hash.

CPU work runs on the event loop: one decision is ~0.1 ms, and handing it to a thread costs
more than that. A batch is decided in chunks of :data:`CHUNK` records, with the loop free
between chunks (the single-decision requests of other clients go on meanwhile) and the time
limit checked after each.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import hmac
import io
import json
import logging
import re
import secrets
import signal
import time
from datetime import date
from itertools import islice
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping, MutableMapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..dates import parse_as_of
from ..model import Question
from ..pipeline import Result, evaluate_items, items
from ..policy import Policy, QuestionError
from ..records import RecordInvalid, parse_record
from ..sinks import jsonl_line
from ..sources import SourceError
from ..sources._base import MAX_LINE
from ..sources._text import JsonArraySource, JsonlSource
from ._config import DECIDE_BODY_LIMIT, ServeConfig
from ._decision_log import DecisionLog, DecisionLogError, utc_now
from ._metrics import CONTENT_TYPE as METRICS_TYPE, Metrics
from ._openapi import build_openapi
from ._problems import MEDIA_TYPE as PROBLEM_TYPE, ApiError
from ._snapshot import PackHolder, Snapshot

log = logging.getLogger("privacy_rules.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: records decided between two yields to the event loop in /v1/evaluate
CHUNK = 256
ROUTES = frozenset({"/v1/decide", "/v1/evaluate", "/v1/pack", "/health", "/ready", "/metrics", "/openapi.json"})
#: answered without a token: probes must work before a client has one
OPEN = frozenset({"/health", "/ready"})
_DECIDE_KEYS = ("record", "as_of", "questions", "question_set")
_EVALUATE_PARAMS = ("as_of", "q", "question_set", "profile", "known_on", "reasons")
_JSON_TYPES = ("application/json",)
_NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class _Permit:
    """A counter with a ceiling: ``take`` fails (returns False) at the ceiling."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.used = 0

    def take(self) -> bool:
        if self.used >= self.ceiling:
            return False
        self.used += 1
        return True

    def give(self) -> None:
        self.used -= 1


class _Stream(StreamingResponse):
    """A streamed response that gives its permit back however the stream ends (done, failed,
    or the client went away)."""

    def __init__(self, content: AsyncIterator[bytes], release: Callable[[], None], **kw: Any) -> None:
        super().__init__(content, **kw)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


class Service:
    """The service: an ASGI callable (limits, auth, metrics) around the Starlette app.

    Holds the pack (``holder``), the metrics and the decision log; no module-level state.
    """

    def __init__(self, config: ServeConfig, holder: PackHolder, decision_log: DecisionLog | None = None) -> None:
        self.config = config
        self.holder = holder
        self.decision_log = decision_log
        self.metrics = Metrics()
        self.draining = False
        self._in_flight = _Permit(config.max_in_flight)
        self._batches = _Permit(config.max_batches)
        self._token = config.token.encode("utf-8") if config.token else None
        self._openapi = json.dumps(build_openapi(max_batch=config.max_batch, max_questions=config.max_questions,
                                                 token=self._token is not None, version=_version()),
                                   ensure_ascii=False).encode("utf-8")
        self._ids = secrets.token_hex(4)
        self._next_id = 0
        self._reloading = False
        self._reload_again: str | None = None
        self._watcher: asyncio.Task[None] | None = None
        #: question text -> the checked Question, for the policy ``_checked_for`` only (so a
        #: reload lets the old policy go); pure in its key, bounded
        self._checked_questions: dict[str, Question] = {}
        self._checked_for: Policy | None = None
        routes = [
            Route("/v1/decide", self.decide, methods=["POST"]),
            Route("/v1/evaluate", self.evaluate, methods=["POST"]),
            Route("/v1/pack", self.pack, methods=["GET"]),
            Route("/health", self.health, methods=["GET"]),
            Route("/ready", self.ready, methods=["GET"]),
            Route("/metrics", self.metrics_text, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
        ]
        self.app = Starlette(routes=routes, lifespan=self._lifespan, exception_handlers={
            ApiError: self._api_error, HTTPException: self._http_error, Exception: self._bug})

    # -- the ASGI entry: auth, the in-flight ceiling, metrics -------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        path = scope["path"]
        route = path if path in ROUTES else "other"
        status = 500
        rid = self._request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        scope["state"]["deadline"] = time.monotonic() + self.config.timeout

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode("ascii"))]
            await send(message)

        self.metrics.in_flight += 1
        try:
            if self._token is not None and path not in OPEN and not self._authorised(scope):
                await _send_problem(sending, ApiError("PR806", "this endpoint needs `Authorization: Bearer TOKEN`",
                                                      "send the token the server was started with (--token-file)",
                                                      headers={"www-authenticate": 'Bearer realm="privacy-rules"'}),
                                    path)
                return
            if path.startswith("/v1/"):
                if not self._in_flight.take():
                    await _send_problem(sending, _busy(f"more than {self.config.max_in_flight} requests at once"),
                                        path)
                    return
                try:
                    if path == "/v1/decide" and scope["method"] == "POST":
                        await self._decide_fast(scope, receive, sending)
                    else:
                        await self.app(scope, receive, sending)
                finally:
                    self._in_flight.give()
            else:
                await self.app(scope, receive, sending)
        finally:
            self.metrics.in_flight -= 1
            self.metrics.request(scope.get("method", ""), route, status, time.perf_counter() - start)

    def _authorised(self, scope: Scope) -> bool:
        assert self._token is not None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._token)
        return False

    def _request_id(self, scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                text: str = value.decode("latin-1")
                if _REQUEST_ID.fullmatch(text):
                    return text
                break
        self._next_id += 1
        return f"{self._ids}-{self._next_id}"

    # -- endpoints ---------------------------------------------------------------------------------
    async def decide(self, request: Request) -> Response:
        """POST /v1/decide through Starlette; the service answers it on the fast path
        (:meth:`_decide_fast`) first, so this runs only when that is bypassed."""
        snap = self.holder.current  # INVARIANT: the whole request decides on this one snapshot
        _media_type(request.headers.get("content-type"), _JSON_TYPES)
        body = await self._body(request, min(DECIDE_BODY_LIMIT, self.config.max_body))
        return Response(self._decide_payload(snap, body, request.scope["state"]["request_id"]),
                        media_type="application/json", headers={"x-pack-hash": snap.ref["hash"]})

    async def _decide_fast(self, scope: Scope, receive: Receive, send: Send) -> None:
        """POST /v1/decide as plain ASGI: the same answer as :meth:`decide` without Starlette's
        routing, request and response objects (~60 us a request, a third of a decision)."""
        snap = self.holder.current  # INVARIANT: the whole request decides on this one snapshot
        state = scope["state"]
        try:
            ctype = length = None
            for name, value in scope["headers"]:
                if name == b"content-type":
                    ctype = value.decode("latin-1")
                elif name == b"content-length":
                    length = value
            _media_type(ctype, _JSON_TYPES)
            limit = min(DECIDE_BODY_LIMIT, self.config.max_body)
            if length is not None:
                _check_length(length, limit)
            body = await self._receive_body(receive, limit, state["deadline"])
            payload = self._decide_payload(snap, body, state["request_id"])
        except ApiError as err:
            await _send_problem(send, err, "/v1/decide")
            return
        except _Disconnected:
            return
        except Exception as exc:  # noqa: BLE001 - a bug: answer 500 and log it, as Starlette's handler does
            log.exception("internal error on /v1/decide", exc_info=exc)
            await _send_problem(send, _bug(), "/v1/decide")
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode("ascii")),
            (b"x-pack-hash", snap.ref["hash"].encode("ascii", "replace"))]})
        await send({"type": "http.response.body", "body": payload})

    def _decide_payload(self, snap: Snapshot, body: bytes, request_id: str) -> bytes:
        """The /v1/decide answer for ``body``, decided on ``snap``; raises ApiError."""
        env = _json_body(body)
        if not isinstance(env, dict):
            raise ApiError("PR801", f"the body is a JSON {_kind(env)}; send an object with `record` and `as_of`",
                           'e.g. {"record": {...}, "as_of": "2026-01-31", "questions": ["keep"]}')
        unknown = [k for k in env if k not in _DECIDE_KEYS]
        if unknown:
            raise ApiError("PR801", f"unknown member `{_short(unknown[0])}` in the body", _did_you_mean(unknown[0],
                                                                                                     _DECIDE_KEYS))
        if "record" not in env:
            raise ApiError("PR801", "the body has no `record`", "send the record as the body's `record` member")
        record = env["record"]
        if not isinstance(record, dict):
            raise ApiError("PR801", f"`record` is a JSON {_kind(record)}, not an object",
                           "send one canonical record (schemas/record.schema.json)")
        day = _day(env.get("as_of"), "as_of")
        qs = self._questions(snap.policy, env.get("questions"), env.get("question_set"))
        decisions = snap.policy.decide_all(record, qs, as_of=day)
        out = [d.to_json() for d in decisions]
        texts = [str(q) for q in qs]
        for text, d in zip(texts, out):
            self.metrics.decided(text, d["outcome"])
        if self.decision_log is not None:
            now = utc_now()
            try:
                self.decision_log.write(
                    self.decision_log.entry(now=now, request_id=request_id, endpoint="decide", pack=snap.ref,
                                            as_of=d["as_of"], question=text, outcome=d["outcome"],
                                            rule_id=d["decisive_rule"], keep_until=d["keep_until"],
                                            record_id=d["record_id"], record=record)
                    for text, d in zip(texts, out))
            except DecisionLogError as exc:
                raise _log_failed(exc) from None
        # ASCII with \u escapes: valid JSON for any text, and ~25% faster to write than UTF-8
        return json.dumps({"pack": dict(snap.ref), "decisions": out}).encode("ascii")

    async def evaluate(self, request: Request) -> Response:
        snap = self.holder.current  # INVARIANT: the whole batch decides on this one snapshot
        policy = snap.policy
        params = request.query_params
        unknown = [k for k in params.keys() if k not in _EVALUATE_PARAMS]
        if unknown:
            raise ApiError("PR801", f"unknown query parameter `{_short(unknown[0])}`",
                           _did_you_mean(unknown[0], _EVALUATE_PARAMS))
        for name in ("as_of", "question_set", "profile", "known_on", "reasons"):
            if len(params.getlist(name)) > 1:
                raise ApiError("PR801", f"query parameter `{name}` is given more than once", "give it once")
        day = _day(params.get("as_of"), "as_of")
        qs = self._questions(policy, params.getlist("q") or None, params.get("question_set"))
        reasons = _flag(params.get("reasons", "true"), "reasons")
        profile = None
        if "profile" in params:
            name = params["profile"]
            profile = snap.profiles.get(name)
            if profile is None:
                raise ApiError("PR805", f"no mapping profile `{_short(name)}` on this server",
                               _did_you_mean(name, tuple(snap.profiles)) or "GET /v1/pack lists the profiles")
        known = _day(params["known_on"], "known_on") if "known_on" in params else None
        if known is not None and profile is None:
            raise ApiError("PR801", "`known_on` goes with `profile` (it dates the facts a profile maps)")
        kind = _media_type(request.headers.get("content-type"), _JSON_TYPES + _NDJSON_TYPES)
        if not self._batches.take():
            raise _busy(f"more than {self.config.max_batches} batches at once")
        try:
            body = await self._body(request, self.config.max_body)
            fh = io.BytesIO(body)
            src = (JsonArraySource if kind in _JSON_TYPES else JsonlSource)(fh, "request body", limit=MAX_LINE)
            tz = str(policy.pack.meta.get("time_zone") or "UTC")
            try:
                its = await _collect(items(src, profile=profile, known_on=known, time_zone=tz), self.config.max_batch + 1)
            except SourceError as exc:
                raise ApiError("PR801", f"the body is not a batch of records: {exc.message}",
                               exc.help or "send a JSON array of records, {\"records\": [...]}, or JSON Lines") from None
            if len(its) > self.config.max_batch:
                raise ApiError("PR804", f"more than {self.config.max_batch:,} records in one request",
                               "split the batch into several requests")
            stream = self._stream(snap, its, qs, day, reasons, request.scope["state"])
            return _Stream(stream, self._batches.give, media_type="application/x-ndjson",
                           headers={"x-pack-hash": snap.ref["hash"]})
        except BaseException:
            self._batches.give()
            raise

    async def _stream(self, snap: Snapshot, its: list[Any], qs: list[Question], day: date, reasons: bool,
                      state: Mapping[str, Any]) -> AsyncIterator[bytes]:
        texts = [str(q) for q in qs]
        tail = f', "pack_version": {json.dumps(snap.ref["hash"])}}}\n'
        counts: dict[tuple[str, str], int] = {}
        dlog = self.decision_log
        entries: list[dict[str, Any]] = []
        now = utc_now() if dlog is not None else ""
        asof = day.isoformat()
        buf: list[str] = []
        done = 0
        try:
            for r in evaluate_items(snap.policy, its, qs, as_of=day, reasons=reasons):
                # jsonl_line ends in "}\n": the pack hash goes in as the line's last member
                buf.append(jsonl_line(r, texts)[:-2] + tail)
                for text, a in zip(texts, r.answers):
                    key = (text, a.outcome._value_)
                    counts[key] = counts.get(key, 0) + 1
                if dlog is not None:
                    entries.extend(_log_entries(dlog, r, texts, now, state["request_id"], snap, asof, its))
                done += 1
                if len(buf) >= CHUNK:
                    if dlog is not None:  # logged before sent: no answer leaves unlogged
                        try:
                            dlog.write(entries)
                        except DecisionLogError as exc:
                            yield _problem_line(_log_failed(exc), done - len(buf), len(its))
                            return
                        entries.clear()
                    yield "".join(buf).encode("utf-8", "backslashreplace")
                    buf.clear()
                    if time.monotonic() > state["deadline"] and done < len(its):
                        err = ApiError("PR807", f"the batch took longer than {self.config.timeout:g} s; answered "
                                                f"{done:,} of {len(its):,} records",
                                       "send smaller batches, or ask again from the next record")
                        yield _problem_line(err, done, len(its))
                        return
            if dlog is not None:
                try:
                    dlog.write(entries)
                except DecisionLogError as exc:
                    yield _problem_line(_log_failed(exc), done - len(buf), len(its))
                    return
            if buf:
                yield "".join(buf).encode("utf-8", "backslashreplace")
        finally:
            for (text, outcome), n in counts.items():
                self.metrics.decided(text, outcome, n)

    async def pack(self, request: Request) -> Response:
        return _json(dict(self.holder.current.info))

    async def health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def ready(self, request: Request) -> Response:
        if self.draining:
            raise ApiError("PR810", "shutting down: finishing the requests in flight", "send requests to another "
                           "instance")
        status = self.holder.status
        if not status.ok:
            raise ApiError("PR810", status.reason or "the last reload failed",
                           "fix the pack (privacy-rules check PACK); it is reloaded when its files change, or on "
                           "SIGHUP", extra={"diagnostics": list(status.diagnostics)})
        return _json({"status": "ready", "pack": dict(self.holder.current.ref)})

    async def metrics_text(self, request: Request) -> Response:
        text = self.metrics.render(reloads=self.holder.reloads, pack=self.holder.current.ref,
                                   ready=self.holder.status.ok and not self.draining)
        return Response(text, headers={"content-type": METRICS_TYPE})

    async def openapi(self, request: Request) -> Response:
        return Response(self._openapi, media_type="application/json")

    # -- request parts -----------------------------------------------------------------------------
    async def _body(self, request: Request, limit: int) -> bytes:
        length = request.headers.get("content-length")
        if length is not None:
            _check_length(length.encode("latin-1"), limit)
        return await self._receive_body(request.receive, limit, request.scope["state"]["deadline"])

    async def _receive_body(self, receive: Receive, limit: int, deadline: float) -> bytes:
        """The whole request body, at most ``limit`` bytes (PR800), by ``deadline`` (PR807)."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0.001)):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Disconnected
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise _too_large(limit)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise ApiError("PR807", f"the request body did not arrive within {self.config.timeout:g} s",
                           "send the body at once, or raise --timeout") from None
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _questions(self, policy: Policy, questions: Any, question_set: Any) -> list[Question]:
        if question_set is not None:
            if questions is not None:
                raise ApiError("PR802", "`questions` and `question_set` ask different questions: give one of them")
            if not isinstance(question_set, str) or question_set not in policy.question_sets:
                known = tuple(policy.question_sets)
                raise ApiError("PR802", f"unknown question set `{_short(question_set)}`",
                               _did_you_mean(str(question_set), known) or
                               ("the pack defines " + ", ".join(f"`{n}`" for n in known) if known else
                                "the pack defines no question sets"))
            return list(policy.question_sets[question_set])
        if questions is None:
            return list(policy.standard_questions)
        if not isinstance(questions, list):
            raise ApiError("PR802", f"`questions` is a JSON {_kind(questions)}, not a list",
                           'e.g. ["keep", "contact:newsletter:email"]')
        if len(questions) > self.config.max_questions:
            raise ApiError("PR802", f"more than {self.config.max_questions} questions in one request",
                           "ask fewer questions per request")
        out = []
        if policy is not self._checked_for:
            self._checked_questions = {}
            self._checked_for = policy
        cache = self._checked_questions
        for i, q in enumerate(questions):
            if isinstance(q, str):
                got = cache.get(q)
                if got is not None:
                    out.append(got)
                    continue
            try:
                if isinstance(q, str):
                    parsed = Question.parse(q)
                elif isinstance(q, dict):
                    parsed = Question.from_json(q)
                else:
                    raise ValueError(f"a question is text or an object with `action`, not a JSON {_kind(q)}")
                checked = policy.check_question(parsed)
                out.append(checked)
                if isinstance(q, str):
                    if len(cache) >= 4096:
                        cache.clear()
                    cache[q] = checked
            except (ValueError, TypeError, QuestionError) as exc:
                raise ApiError("PR802", f"question {i + 1}: {exc}",
                               "GET /v1/pack lists the pack's questions and vocabulary") from None
        return out

    # -- errors ------------------------------------------------------------------------------------
    async def _api_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _problem(exc, request.url.path)

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            err = ApiError("PR813", f"{request.method} is not allowed on {request.url.path}",
                           "GET /openapi.json lists each endpoint's methods", headers=dict(exc.headers or {}))
        elif exc.status_code == 404:
            err = ApiError("PR809", f"no endpoint at `{_short(request.url.path)}`",
                           "the endpoints are /v1/decide, /v1/evaluate, /v1/pack, /health, /ready, /metrics "
                           "and /openapi.json")
        else:
            err = ApiError("PR801", str(exc.detail), status=exc.status_code)
        return _problem(err, request.url.path)

    async def _bug(self, request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path, exc_info=exc)
        return _problem(_bug(), request.url.path)

    # -- lifespan: reload on SIGHUP and on changed files ---------------------------------------------
    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        hup = False
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: self.request_reload("SIGHUP"))
            hup = True
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):  # not the main thread; no SIGHUP
            log.info("SIGHUP reload unavailable here; the pack's files are watched instead")
        if self.config.watch_seconds > 0:
            self._watcher = asyncio.create_task(self._watch())
        try:
            yield
        finally:
            if self._watcher is not None:
                self._watcher.cancel()
            if hup:
                loop.remove_signal_handler(signal.SIGHUP)
            if self.decision_log is not None:
                self.decision_log.close()

    def request_reload(self, why: str) -> None:
        """Reload in a worker thread (the loop keeps serving); a second request while one runs
        is done after it."""
        if self._reloading:
            self._reload_again = why
            return
        self._reloading = True
        asyncio.get_running_loop().create_task(self._reload(why))

    async def _reload(self, why: str) -> None:
        try:
            while True:
                await asyncio.to_thread(self.holder.reload, why)
                if self._reload_again is None:
                    return
                why, self._reload_again = self._reload_again, None
        finally:
            self._reloading = False

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.config.watch_seconds)
            if not self._reloading and await asyncio.to_thread(self.holder.changed):
                self.request_reload("the pack's files changed")


async def _collect(rows: Iterable[Any], limit: int) -> list[Any]:
    """At most ``limit`` items of ``rows`` (reading and mapping them is CPU work too), with the
    event loop free every CHUNK items."""
    out: list[Any] = []
    for row in islice(rows, limit):
        out.append(row)
        if len(out) % CHUNK == 0:
            await asyncio.sleep(0)
    return out


def _logged_input(record: Any) -> Any:
    """A record as the decision log shows it (``--decision-log-inputs``): JSON text parsed."""
    if isinstance(record, (bytes, bytearray, str)):
        try:
            return json.loads(record)
        except ValueError:
            return bytes(record).decode("utf-8", "replace") if not isinstance(record, str) else record
    return record


def _log_entries(dlog: DecisionLog, r: Result, texts: list[str], now: str, rid: str, snap: Snapshot, asof: str,
                 its: list[Any]) -> Iterable[dict[str, Any]]:
    record = _logged_input(its[r.row - 1].record) if dlog.inputs else None
    for text, a in zip(texts, r.answers):
        yield dlog.entry(now=now, request_id=rid, endpoint="evaluate", pack=snap.ref, as_of=asof, question=text,
                         outcome=a.outcome._value_, rule_id=a.rule_id,
                         keep_until=a.keep_until.isoformat() if a.keep_until else None, record_id=r.record_id,
                         record=record)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("privacy-rules")
    except PackageNotFoundError:
        return "0"


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False).encode("utf-8"), status_code=status,
                    media_type="application/json")


def _problem(err: ApiError, instance: str) -> Response:
    return Response(err.encode(instance), status_code=err.http_status, media_type=PROBLEM_TYPE,
                    headers=dict(err.headers))


async def _send_problem(send: Send, err: ApiError, instance: str) -> None:
    body = err.encode(instance)
    headers = [(b"content-type", PROBLEM_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in err.headers.items()]
    await send({"type": "http.response.start", "status": err.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _log_failed(exc: DecisionLogError) -> ApiError:
    return ApiError("PR814", f"{exc.strerror}; the answer is withheld, since it could not be logged",
                    "free disk space or fix the log's permissions; the server answers again once it can write")


def _problem_line(err: ApiError, answered: int, total: int) -> bytes:
    """The last line of a batch cut short: the problem, and how many records were answered."""
    body = err.body()
    body["answered"] = answered
    body["records"] = total
    return json.dumps({"problem": body}, ensure_ascii=False).encode("utf-8") + b"\n"


class _Disconnected(Exception):
    """The client went away before its body arrived: nothing to answer."""


def _bug() -> ApiError:
    return ApiError("PR812", "internal error: this is a bug in privacy-rules", "please report it with the server's log")


def _check_length(value: bytes, limit: int) -> None:
    try:
        declared = int(value)
    except ValueError:
        raise ApiError("PR801", "Content-Length is not a number") from None
    if declared > limit:
        raise _too_large(limit)


def _busy(why: str) -> ApiError:
    return ApiError("PR808", f"server busy: {why}", "retry after a second", headers={"retry-after": "1"})


def _too_large(limit: int) -> ApiError:
    return ApiError("PR800", f"the request body is larger than {limit:,} bytes",
                    "send fewer records per request (a record is at most 1,000,000 bytes)")


def _media_type(raw: str | None, allowed: tuple[str, ...]) -> str:
    kind = (raw or "application/json").split(";", 1)[0].strip().lower()
    if kind not in allowed:
        raise ApiError("PR811", f"Content-Type `{_short(raw or '')}` is not one this endpoint reads",
                       "send " + " or ".join(allowed))
    return kind


def _json_body(body: bytes) -> Any:
    """The body's JSON value, checked as a records-file line is (duplicate keys, NaN, nesting,
    UTF-8): its problems are the CLI's codes PR307, PR309-PR313."""
    if not body.strip():
        raise ApiError("PR801", "the request body is empty", "send a JSON object")
    try:
        return parse_record(body)
    except RecordInvalid as exc:
        p = exc.problems[0]  # the message names the key path (a duplicate key) or the line and column
        raise ApiError(p.code, f"request body: {p.message}", p.help, status=400,
                       title="the body is not usable JSON") from None


def _day(value: Any, name: str) -> date:
    if value is None:
        raise ApiError("PR803", f"`{name}` is missing", f"give `{name}` as YYYY-MM-DD: the service never guesses "
                                                         "the day")
    if not isinstance(value, str):
        raise ApiError("PR803", f"`{name}` is a JSON {_kind(value)}; give the day as a \"YYYY-MM-DD\" string")
    try:
        return parse_as_of(value)
    except (ValueError, TypeError) as exc:
        raise ApiError("PR803", f"`{name}`: {exc}", "a day is YYYY-MM-DD, in 1900-01-01..2200-12-31") from None


def _flag(value: str, name: str) -> bool:
    low = value.lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ApiError("PR801", f"`{name}` is `{_short(value)}`; give true or false")


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)


def _short(value: Any, n: int = 80) -> str:
    from ..errors import shown

    return shown(value if isinstance(value, str) else str(value), n)


def _did_you_mean(value: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


__all__ = ["Service"]
