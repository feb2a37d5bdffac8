// A Node (>= 18) client for `privacy-rules serve`, with nothing but the built-in fetch().
//
//   node examples/serve/client.mjs [--url http://127.0.0.1:8080] [--token-file FILE] [--as-of YYYY-MM-DD] RECORDS.jsonl
//
// For the first record it asks /v1/decide (explained decisions for the pack's standard
// questions); for all of them /v1/evaluate, reading the NDJSON answers as they stream in.
// Prints one JSON object: {pack, decide, evaluate}. Errors are RFC 9457 problem details with a
// privacy-rules code (docs/codes.md); the client throws them as ServiceError. Exit 0 ok, 1 error.

import { readFile } from "node:fs/promises";

export class ServiceError extends Error {
  constructor(problem) {
    super(`${problem.code}: ${problem.detail}${problem.help ? ` (help: ${problem.help})` : ""}`);
    this.problem = problem;
  }
}

export class PrivacyRulesClient {
  constructor(baseUrl, { token = null, timeoutMs = 15000 } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.headers = token ? { authorization: `Bearer ${token}` } : {};
    this.timeoutMs = timeoutMs;
  }

  async #fetch(path, init = {}) {
    const response = await fetch(this.baseUrl + path, {
      ...init,
      headers: { ...this.headers, ...(init.headers ?? {}) },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) {
      const type = response.headers.get("content-type") ?? "";
      if (type.startsWith("application/problem+json")) throw new ServiceError(await response.json());
      throw new Error(`HTTP ${response.status} from ${path}`);
    }
    return response;
  }

  /** The pack being served: id, version, hash, standard questions, vocabulary. */
  async pack() {
    return (await this.#fetch("/v1/pack")).json();
  }

  /** Explained decisions for one record (schemas/decision.schema.json), one per question. */
  async decide(record, asOf, questions = undefined) {
    const body = { record, as_of: asOf };
    if (questions) body.questions = questions;
    const response = await this.#fetch("/v1/decide", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return (await response.json()).decisions;
  }

  /** Compact answers for a batch, yielded line by line as the server streams them. */
  async *evaluate(records, asOf, { questions = [], reasons = true } = {}) {
    const query = new URLSearchParams({ as_of: asOf, reasons: String(reasons) });
    for (const q of questions) query.append("q", q);
    const response = await this.#fetch(`/v1/evaluate?${query}`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: records.map((r) => JSON.stringify(r)).join("\n") + "\n",
    });
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffered.indexOf("\n")) >= 0) {
        const line = JSON.parse(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        if (line.problem && typeof line.problem === "object") throw new ServiceError(line.problem); // cut short
        yield line;
      }
    }
  }
}

async function main(argv) {
  const args = { url: process.env.PRIVACY_RULES_URL ?? "http://127.0.0.1:8080", tokenFile: null, asOf: null, records: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--url") args.url = argv[++i];
    else if (argv[i] === "--token-file") args.tokenFile = argv[++i];
    else if (argv[i] === "--as-of") args.asOf = argv[++i];
    else args.records = argv[i];
  }
  if (!args.records) throw new Error("usage: client.mjs [--url URL] [--token-file FILE] [--as-of DAY] RECORDS.jsonl");
  const token = args.tokenFile ? (await readFile(args.tokenFile, "utf8")).trim() : null;
  const asOf = args.asOf ?? new Date().toISOString().slice(0, 10); // the host chooses the day
  const records = (await readFile(args.records, "utf8")).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const client = new PrivacyRulesClient(args.url, { token });
  const pack = await client.pack();
  const decide = await client.decide(records[0], asOf);
  const evaluate = [];
  for await (const line of client.evaluate(records, asOf)) evaluate.push(line);
  console.log(JSON.stringify({ pack, decide, evaluate }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`error: ${error.message}`);
    process.exit(1);
  });
}
