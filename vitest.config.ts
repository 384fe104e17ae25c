import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The fixture service has its own vitest suite; it runs inside the gates, not here.
    exclude: ["test/fixtures/**", "node_modules/**", "dagger/**"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Gate tests run real tools against one Postgres; files in parallel would fight over CPU.
    fileParallelism: false,
  },
});
