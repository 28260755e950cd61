import { defineConfig } from "vitest/config";

// Five projects, run in this order by test/run.sh:
//  unit         *.test.ts beside the code: pure logic and services with fakes
//  integration  test/integration: real MariaDB, real processes, real nginx
//  scale        test/integration/scale-*.test.ts: the same, with hundreds of apps (its own time limit)
//  install      test/install: setup/install.sh on this machine, then checks of what it set up
//  e2e          test/e2e: Playwright driving Debian's Chromium against the installed Hearth
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "apps/admin/lib/**/*.test.ts", "setup/**/*.test.ts", "bench/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/generated/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          exclude: ["**/node_modules/**", "test/integration/scale-*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // integration tests at scale (200 apps on the real Docker and nginx): their own phase and time limit
          name: "scale",
          include: ["test/integration/scale-*.test.ts"],
          testTimeout: 3_600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          // runs setup/install.sh for real (as root) and checks the installed Hearth
          name: "install",
          include: ["test/install/**/*.test.ts"],
          testTimeout: 1_200_000,
          hookTimeout: 1_200_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
