import { defineConfig } from "vitest/config";

// Files that run the fixture's real tools (ESLint, tsc, its own vitest against Postgres, gitleaks,
// cosign, syft...) through the harness: one at a time, so two of them never fight over 2 cores or
// one database. Everything else (parsers, fakes on fake time, a loopback server) runs 2 at a time.
const SERIAL = [
  "test/gates/**/*.test.ts",
  "test/supply/*.real.test.ts",
  "test/generate/*.e2e.test.ts",
  "test/api/dagger-tests-module.test.ts",
];
const shared = {
  // The fixture service has its own vitest suite; it runs inside the gates, not here.
  exclude: ["test/fixtures/**", "node_modules/**", "dagger/**"],
  testTimeout: 120_000,
  hookTimeout: 180_000,
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "tools", include: SERIAL, fileParallelism: false, sequence: { groupOrder: 1 } } },
      {
        test: {
          ...shared,
          name: "logic",
          include: ["test/**/*.test.ts"],
          exclude: [...shared.exclude, ...SERIAL],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
    ],
  },
});
