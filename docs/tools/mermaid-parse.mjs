// Parses Mermaid diagrams with Mermaid's own parser (the `mermaid` package pinned in package.json),
// in Node, without a browser: `node docs/tools/mermaid-parse.mjs < diagrams.json`.
//
// Input on stdin: a JSON list of {"id": "...", "text": "..."}.
// Output on stdout: a JSON list of {"id", "ok", "type", "error", "line"}, one per input, in order:
// `type` is Mermaid's diagram type when it parses; otherwise `error` is Mermaid's message and
// `line` the line of the diagram (1-based) where the parser stopped, when Mermaid says.
//
// Why a DOM: Mermaid sanitizes labels with DOMPurify, which builds itself from `window` when it is
// imported. Without one, flowcharts fail with "DOMPurify.addHook is not a function". linkedom
// (pinned too) gives it a small DOM; nothing is laid out or drawn.
import { parseHTML } from "linkedom";

const { window } = parseHTML("<!doctype html><html><head></head><body></body></html>");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

let input = "";
for await (const chunk of process.stdin) {
  input += chunk;
}

const results = [];
for (const { id, text } of JSON.parse(input)) {
  try {
    const parsed = await mermaid.parse(text);
    results.push({ id, ok: true, type: parsed.diagramType, error: null, line: null });
  } catch (error) {
    const line = error?.hash?.loc?.first_line ?? error?.hash?.line ?? null;
    results.push({ id, ok: false, type: null, error: String(error?.message ?? error), line });
  }
}
process.stdout.write(JSON.stringify(results));
