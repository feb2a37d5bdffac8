"""``privacy-rules serve PACK``: the decision service (privacy_rules.serve, docs/serve.md).

This module reads the options and the secret files, and turns their problems into usage
errors (exit 2); the service itself lives in privacy_rules.serve.
"""

from __future__ import annotations

import logging
import os
import stat

import click

from ._common import EXIT_FAIL, EXIT_OK, RECIPIENT_FACTS_HELP, UsageFailure, parse_day, streams

MIN_KEY_BYTES = 16


def _secret(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read(65_537)
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise UsageFailure(f"cannot read {what} `{path}`: {exc.strerror or exc}") from None
    if len(data) > 65_536:
        raise UsageFailure(f"{what} `{path}` is larger than 64 KiB; it should hold one secret")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logging.getLogger("privacy_rules.serve").warning("%s `%s` can be read by other users; chmod 600 it", what, path)
    return data.strip()


@click.command()
@click.argument("pack")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but a loopback address needs --token-file.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0 picks a free port.")
@click.option("--lang", type=click.Choice(["en", "nb"]), default="en", show_default=True,
              help="Language of the reasons in answers.")
@click.option("--profile", "profiles", multiple=True, metavar="NAME|FILE",
              help="A mapping profile /v1/evaluate may name (a YAML file, named by its file name without .yaml); "
                   "repeatable. The bundled profiles that fit the pack are always offered.")
@click.option("--recipient-facts", "recipient_facts", metavar="FILE",
              help=RECIPIENT_FACTS_HELP + " Reloaded with the pack when it changes.")
@click.option("--token-file", "token_file", metavar="FILE",
              help="Require `Authorization: Bearer TOKEN` (the file's content) on every endpoint but /health "
                   "and /ready.")
@click.option("--max-body", "max_body", type=click.IntRange(1), default=32 * 1024 * 1024, show_default=True,
              metavar="BYTES", help="Largest /v1/evaluate body; /v1/decide takes ~1 MB (one record) at most.")
@click.option("--max-batch", "max_batch", type=click.IntRange(1), default=10_000, show_default=True, metavar="N",
              help="Most records in one /v1/evaluate request.")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=10.0, show_default=True,
              metavar="SECONDS", help="Time limit per request (reading the body and deciding).")
@click.option("--max-in-flight", "max_in_flight", type=click.IntRange(1), default=256, show_default=True,
              metavar="N", help="Most /v1 requests at once; more are answered 503 (PR808) with Retry-After.")
@click.option("--max-batches", "max_batches", type=click.IntRange(1), default=2, show_default=True, metavar="N",
              help="Most /v1/evaluate requests at once (each holds its body in memory).")
@click.option("--drain-seconds", "drain_seconds", type=click.FloatRange(0), default=30.0, show_default=True,
              metavar="SECONDS", help="On SIGTERM, how long requests in flight may take to finish.")
@click.option("--watch-seconds", "watch_seconds", type=click.FloatRange(0), default=2.0, show_default=True,
              metavar="SECONDS", help="How often the pack's files are checked for changes (0: reload on SIGHUP only).")
@click.option("--decision-log", "decision_log", metavar="FILE",
              help="Append one JSON line per answer here (record ids pseudonymised; rotated by size).")
@click.option("--decision-log-key", "decision_log_key", metavar="FILE",
              help="The HMAC key for the record ids in the decision log (at least 16 bytes; keep it secret and "
                   "keep it: it is what finds a record's lines later).")
@click.option("--decision-log-max-bytes", "decision_log_max_bytes", type=click.IntRange(1), default=64 * 1024 * 1024,
              show_default=True, metavar="BYTES", help="Rotate the decision log at this size.")
@click.option("--decision-log-backups", "decision_log_backups", type=click.IntRange(0), default=5, show_default=True,
              metavar="N", help="Rotated decision logs kept (FILE.1 ... FILE.N).")
@click.option("--decision-log-inputs", "decision_log_inputs", is_flag=True,
              help="Also log each full record (personal data: off by default; warns).")
def serve(pack: str, host: str, port: int, lang: str, profiles: tuple[str, ...], token_file: str | None,
          max_body: int, max_batch: int, timeout: float, max_in_flight: int, max_batches: int, drain_seconds: float,
          watch_seconds: float, decision_log: str | None, decision_log_key: str | None, decision_log_max_bytes: int,
          decision_log_backups: int, decision_log_inputs: bool, recipient_facts: str | None = None) -> None:
    """Serve decisions about PACK over HTTP until SIGTERM (docs/serve.md).

    \b
    POST /v1/decide    one record -> explained decisions (schemas/decision.schema.json)
    POST /v1/evaluate  a batch -> compact answers as NDJSON, as `evaluate` writes them
    GET  /v1/pack, /health, /ready, /metrics, /openapi.json

    Reloads the pack on SIGHUP or when its files change, after checking it: a pack that does
    not check leaves the old one serving, and /ready says why. Exit 2 for bad options or a
    pack that does not check at start.
    """
    io = streams()
    logging.basicConfig(level=logging.INFO, stream=io.err, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        from ..serve import ServeConfig
        from ..serve import serve as run
    except ImportError as exc:
        raise UsageFailure(f"serve needs the `serve` extra ({exc.name} is missing): "
                           "pip install 'privacy-rules[serve]'") from None
    token = None
    if token_file is not None:
        token = _secret(token_file, "token file").decode("utf-8", "replace")
        if not token or any(c.isspace() for c in token):
            raise UsageFailure(f"token file `{token_file}` must hold one token without spaces")
    key = None
    if decision_log_key is not None:
        key = _secret(decision_log_key, "decision log key")
        if len(key) < MIN_KEY_BYTES:
            raise UsageFailure(f"decision log key `{decision_log_key}` has {len(key)} bytes; use at least "
                               f"{MIN_KEY_BYTES} random bytes (e.g. `head -c 32 /dev/urandom | base64 > KEY`)")
    elif decision_log_inputs:
        raise UsageFailure("--decision-log-inputs goes with --decision-log")
    try:
        config = ServeConfig(pack=pack, host=host, port=port, lang=lang, profiles=profiles,
                             recipient_facts=recipient_facts, token=token,
                             max_body=max_body, max_batch=max_batch, timeout=timeout, max_in_flight=max_in_flight,
                             max_batches=max_batches, drain_seconds=drain_seconds, watch_seconds=watch_seconds,
                             decision_log=decision_log, decision_log_key=key,
                             decision_log_max_bytes=decision_log_max_bytes, decision_log_backups=decision_log_backups,
                             decision_log_inputs=decision_log_inputs)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from None
    from ..serve import RegisterError

    try:
        run(config)
    except RegisterError as exc:
        raise UsageFailure(str(exc)) from None
    except OSError as exc:
        raise UsageFailure(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


@click.group(name="decision-log")
def decision_log() -> None:
    """Read the decision log `serve --decision-log` writes (docs/serve.md, "Decision log")."""


@decision_log.command(name="find")
@click.argument("logs", nargs=-1, required=True)
@click.option("--key-file", "key_file", required=True, metavar="FILE", help="The key the server was given "
              "(--decision-log-key).")
@click.option("--record-id", "record_id", required=True, metavar="ID", help="The record's id in the host system.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Only decisions for this day.")
@click.option("-q", "--question", "question", metavar="Q", help="Only this question, as the log writes it "
              "(keep:relationship_record, contact:newsletter:email ...).")
@click.option("--outcome", type=click.Choice(["allow", "deny", "undetermined"]), help="Only this outcome.")
def find_cmd(logs: tuple[str, ...], key_file: str, record_id: str, as_of: str | None, question: str | None,
             outcome: str | None) -> None:
    """Print the lines of LOGS (FILE, FILE.1 ...) about one record: which pack (id, version,
    hash) decided what about it, on which day. The record id is never in the log; its HMAC
    under the key is, and this command computes it. Exit 0 when a line matched, 1 when none did.
    """
    import json

    from ..decision_log import find

    io = streams()
    key = _secret(key_file, "decision log key")
    day = parse_day(as_of).isoformat() if as_of is not None else None
    handles = []
    try:
        for path in logs:
            try:
                handles.append(open(path, encoding="utf-8", errors="replace"))
            except OSError as exc:
                raise UsageFailure(f"cannot read decision log `{path}`: {exc.strerror or exc}") from None
        found = 0
        for entry in find(handles, key, record_id, as_of=day, question=question, outcome=outcome):
            io.out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            found += 1
    finally:
        for fh in handles:
            fh.close()
    raise SystemExit(EXIT_OK if found else EXIT_FAIL)
