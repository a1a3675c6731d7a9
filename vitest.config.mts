import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The Pulumi SDK keeps global state: one process per test file keeps runs apart.
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
