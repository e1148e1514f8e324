// Parse a Mermaid chart with the real mermaid package: `node mermaid_check.mjs DIR FILE`,
// DIR holding node_modules with mermaid and jsdom (npm install mermaid@11 jsdom).
// Prints "ok" (exit 0) or the parser's error (exit 1).
import { createRequire } from "module";
import { pathToFileURL } from "url";
import fs from "fs";

const [dir, file] = process.argv.slice(2);
const require = createRequire(dir.replace(/\/?$/, "/"));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const { JSDOM } = await load("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
const mermaid = (await load("mermaid")).default;
try {
  const result = await mermaid.parse(fs.readFileSync(file, "utf8"));
  console.log("ok", result.diagramType);
} catch (e) {
  console.log("invalid:", e.message);
  process.exit(1);
}
