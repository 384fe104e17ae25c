/**
 * What a module's runtime loads: the files its entrypoint lists (every .ts under its src/) and
 * everything they import, as TypeScript's program sees it (ts.preProcessFile: static imports,
 * `import type`, re-exports and literal `import("...")`, all of which the runtime's scan parses and
 * type-checks). `lazy` follows the computed specifiers too (`import(NAME)` where NAME is a const
 * string or a ["..", "x.js"].join("/")), which load only when the code path runs.
 */
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, resolve } from "node:path";
import ts from "typescript";

export interface Closure {
  /** Every source file reached (absolute paths). */
  files: Set<string>;
  /** Every package imported by name (node builtins left out). */
  packages: Set<string>;
  /** The computed specifiers met, as file -> specifier. */
  computed: { file: string; specifier: string }[];
}

const BUILTIN = new Set(builtinModules);
const packageOf = (spec: string) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);

/**
 * `import(NAME)` where the file defines NAME as a string or a joined array of strings, and
 * `import(NAME[key])` where NAME is an object of strings (src/calls.ts's CALL_FILES): every value.
 */
function computedSpecifiers(text: string): string[] {
  const out: string[] = [];
  for (const [, name, indexed] of text.matchAll(/import\(\s*(?:\/\*[^*]*\*\/\s*)?([A-Za-z_$][\w$]*)(\[[^\]]*\])?\s*\)/g)) {
    if (indexed) {
      const map = new RegExp(`const ${name}\\s*=\\s*\\{([^}]*)\\}`).exec(text)?.[1];
      if (!map) throw new Error(`import(${name}[...]): no const ${name} = { key: "...", ... } in the same file`);
      out.push(...[...map.matchAll(/:\s*"([^"]*)"/g)].map((m) => m[1]!));
      continue;
    }
    const def = new RegExp(`const ${name}\\s*=\\s*(\\[[^\\]]*\\]\\.join\\("/"\\)|"[^"]*")`).exec(text)?.[1];
    if (!def) throw new Error(`import(${name}): no const ${name} = "..." or [...].join("/") in the same file`);
    out.push(def.startsWith('"') ? (JSON.parse(def) as string) : (JSON.parse(def.replace(/\.join\("\/"\)$/, "")) as string[]).join("/"));
  }
  return out;
}

function resolveFile(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  return base.endsWith(".js") ? base.replace(/\.js$/, ".ts") : base;
}

export function importClosure(entry: string[], opts: { lazy?: boolean } = {}): Closure {
  const c: Closure = { files: new Set(), packages: new Set(), computed: [] };
  const todo = [...entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (c.files.has(file)) continue;
    c.files.add(file);
    const text = readFileSync(file, "utf8");
    const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    const computed = computedSpecifiers(text);
    for (const specifier of computed) c.computed.push({ file, specifier });
    for (const spec of [...specs, ...(opts.lazy ? computed : [])]) {
      if (spec.startsWith(".")) todo.push(resolveFile(file, spec));
      else if (!spec.startsWith("node:") && !BUILTIN.has(spec)) c.packages.add(packageOf(spec));
    }
  }
  return c;
}
