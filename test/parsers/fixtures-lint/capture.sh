#!/usr/bin/env bash
# Regenerates every fixture in this folder from real tool runs (see README.md).
# Usage: bash capture.sh [LAB]   (LAB defaults to /tmp/lintlab, outside the repo)
# The sample projects are written here rather than committed because they are
# deliberately broken (type errors, syntax errors) and would trip the repo's own tsc.
set -uo pipefail
LAB="${1:-/tmp/lintlab}"
OUT="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$LAB"
cd "$LAB"
if [ ! -x node_modules/.bin/eslint ]; then
  npm init -y >/dev/null
  npm i eslint@9.39.5 @eslint/js@9.39.5 typescript-eslint@8.73.0 prettier@3.10.1 typescript@5.9.3 >/dev/null
fi
BIN="$LAB/node_modules/.bin"
: >"$OUT/exit-codes.txt"
# run NAME CMD... : stdout -> NAME.stdout.txt, stderr -> NAME.stderr.txt, exit code logged.
run() {
  local name="$1"; shift
  "$@" >"$OUT/$name.stdout.txt" 2>"$OUT/$name.stderr.txt"
  echo "$name exit=$?" >>"$OUT/exit-codes.txt"
}

# ---------- ESLint ----------
rm -rf proj && mkdir -p proj/src/util proj/dist && cd proj
ln -s ../node_modules node_modules
echo '{ "name": "sample-lint", "version": "1.0.0", "type": "module" }' >package.json
cat >eslint.config.js <<'EOF'
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { rules: { "no-console": "warn", eqeqeq: "warn", "no-var": "warn" } },
);
EOF
cat >src/app.ts <<'EOF'
let greeting = "hello";
const unused = 42;
export function greet(name: any): string {
  console.log(greeting);
  if (name == null) return "nobody";
  return `${greeting}, ${name}`;
}
EOF
printf 'export function half(n: number): number {\n  return n / 2\n' >src/util/broken.ts
echo 'export const answer = 42;' >src/clean.ts
# The disable comment suppresses nothing, so ESLint reports it with ruleId null (not fatal).
printf 'var count = 1;\n// eslint-disable-next-line no-console\nexport { count };\n' >src/util/legacy.js
echo 'var x = 1' >dist/out.js
run eslint-mixed "$BIN/eslint" --format json .
run eslint-ignored "$BIN/eslint" --format json dist/out.js
run eslint-clean "$BIN/eslint" --format json src/clean.ts
run eslint-no-files "$BIN/eslint" --format json nope/
cd "$LAB"

# ---------- Prettier ----------
rm -rf pretty && mkdir -p pretty/src/lib && cd pretty
printf '{\n  "name": "sample-prettier",\n  "version": "1.0.0",\n  "type": "module"\n}\n' >package.json
echo 'export const ok = { a: 1, b: 2 };' >src/ok.ts
printf 'export function id<T>(x: T): T {\n  return x;\n}\n' >src/lib/ok2.ts
run prettier-clean env -u CI "$BIN/prettier" --check .
printf 'export const ugly = {a:1,\n    b:2}\n' >src/ugly.ts
echo 'export function  f( x ){ return x*2 }' >src/lib/messy.js
run prettier-unformatted env -u CI "$BIN/prettier" --check .
# CI=true turns on ANSI colours on prettier's stderr even without a TTY.
run prettier-single-ci env CI=true "$BIN/prettier" --check src/ugly.ts src/ok.ts
printf 'export function half(n: number): number {\n  return n / 2\n' >src/lib/broken.ts
run prettier-syntax-error env -u CI "$BIN/prettier" --check .
run prettier-syntax-error-ci env CI=true "$BIN/prettier" --check .
run prettier-no-match env -u CI "$BIN/prettier" --check nope/
# An unknown config key makes prettier print a non-file [warn] line.
echo '{ "bogus": 1 }' >.prettierrc
run prettier-unknown-option env -u CI "$BIN/prettier" --check src/ugly.ts src/ok.ts
rm .prettierrc
cd "$LAB"

# ---------- tsc ----------
rm -rf tsc && mkdir -p tsc && cd tsc
TSCONFIG='{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "types": [] }, "include": ["src"] }'
for d in one many multi clean; do mkdir -p "$d/src"; echo "$TSCONFIG" >"$d/tsconfig.json"; done
printf 'export const label = "x";\nconst count: number = "three";\nexport { count };\n' >one/src/a.ts
echo 'export const ok: number = 1;' >clean/src/a.ts
mkdir -p many/src/lib
cat >many/src/index.ts <<'EOF'
import { add } from "./lib/math.js";

const total: string = add(1, 2);
export const shout = (s: string) => s.toUpperCas();
export { total };
add("1", 2);
EOF
cat >many/src/lib/math.ts <<'EOF'
export function add(a: number, b: number): number {
  return a + b;
}
export function unsafe(x) {
  return x.missing;
}
EOF
cat >multi/src/config.ts <<'EOF'
interface ServerConfig {
  server: { port: number; host: string };
  retries: number;
}

export const cfg: ServerConfig = {
  server: { port: "8080", host: "localhost" },
  retries: 3,
};

type Handler = (req: { url: string; headers: Record<string, string> }) => Promise<number>;
export const handler: Handler = async (req: { url: number }) => "ok";
EOF
mkdir -p noinputs && echo '{ "compilerOptions": { "strict": true, "noEmit": true }, "include": ["src"] }' >noinputs/tsconfig.json
mkdir -p badext/src && echo 'export const a = 1;' >badext/src/a.ts
echo '{ "extends": "./base.json", "compilerOptions": { "noEmit": true, "types": [] }, "include": ["src"] }' >badext/tsconfig.json
mkdir -p badopt/src && echo 'export const a = 1;' >badopt/src/a.ts
printf '{\n  "compilerOptions": {\n    "noEmit": true,\n    "bogusOption": true,\n    "target": "ES2099"\n  },\n  "include": ["src"]\n}\n' >badopt/tsconfig.json
for d in one many multi clean noinputs badext badopt; do
  (cd "$d" && run "tsc-$d" "$BIN/tsc" --noEmit --pretty false -p .)
done
run tsc-missing "$BIN/tsc" --noEmit --pretty false -p "$LAB/tsc/absent/tsconfig.json"
cd "$LAB"
cat "$OUT/exit-codes.txt"
