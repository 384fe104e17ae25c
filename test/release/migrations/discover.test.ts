import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Problem } from "../../../deploy/src/project/problem.js";
import { DEFAULT_MIGRATION_PATHS } from "../../../deploy/lib/release/migrations/config.js";
import { changedFilesCommand, changedFilesProblem, parseChangedFiles, selectMigrations } from "../../../lib/release/migrations/discover.js";

describe("selectMigrations", () => {
  const files = [
    "migrations/002_b.sql",
    "migrations/001_a.sql",
    "./migrations/001_a.sql",
    "migrations/nested/003.sql",
    "db/migrations/20240101_init.sql",
    "prisma/migrations/20240101000000_init/migration.sql",
    "prisma/migrations/migration_lock.toml",
    "drizzle/0000_cool_name.sql",
    "drizzle/meta/_journal.json",
    "supabase/migrations/20240101_x.sql",
    "src/migrations/1700000000000-Init.ts",
    "test/fixtures/seed.sql",
    "migrations\\004_windows.sql",
  ];

  it("default globs cover the common layouts, sorted and without duplicates", () => {
    expect(selectMigrations(files, DEFAULT_MIGRATION_PATHS)).toEqual([
      "db/migrations/20240101_init.sql",
      "drizzle/0000_cool_name.sql",
      "migrations/001_a.sql",
      "migrations/002_b.sql",
      "migrations/004_windows.sql",
      "migrations/nested/003.sql",
      "prisma/migrations/20240101000000_init/migration.sql",
      "supabase/migrations/20240101_x.sql",
    ]);
  });

  it("a leading ! excludes", () => {
    expect(selectMigrations(files, ["migrations/**/*.sql", "!migrations/nested/**"])).toEqual([
      "migrations/001_a.sql",
      "migrations/002_b.sql",
      "migrations/004_windows.sql",
    ]);
  });

  it("with changed files, only those (deleted ones are not in the tree any more)", () => {
    expect(selectMigrations(files, DEFAULT_MIGRATION_PATHS, ["./migrations/002_b.sql", "README.md", "migrations/009_deleted.sql"])).toEqual(
      ["migrations/002_b.sql"],
    );
    expect(selectMigrations(files, DEFAULT_MIGRATION_PATHS, [])).toEqual([]);
  });

  it("sorts by code point, the way migration tools order files", () => {
    expect(selectMigrations(["m/b.sql", "m/B.sql", "m/a.sql", "m/_.sql"], ["m/*.sql"])).toEqual([
      "m/B.sql",
      "m/_.sql",
      "m/a.sql",
      "m/b.sql",
    ]);
  });
});

describe("changedFilesCommand", () => {
  it("diffs against the merge base, NUL-separated, without deleted files", () => {
    expect(changedFilesCommand("origin/main")).toEqual([
      "git",
      "diff",
      "--name-only",
      "-z",
      "--diff-filter=ACMRT",
      "--end-of-options",
      "origin/main...HEAD",
      "--",
    ]);
  });

  it.each(["", "--output=/tmp/x", "main..feature", "origin/ main"])("refuses %j as a base ref", (ref) => {
    expect(() => changedFilesCommand(ref)).toThrow(Problem);
  });

  it("parses NUL-separated output", () => {
    expect(parseChangedFiles("migrations/002.sql\0migrations/ü n.sql\0")).toEqual(["migrations/002.sql", "migrations/ü n.sql"]);
    expect(parseChangedFiles("")).toEqual([]);
  });
});

describe("changed files in real git repositories", () => {
  const root = mkdtempSync(join(tmpdir(), "migrations-git-"));
  const origin = join(root, "origin");
  // No user or system config may change git's behaviour or language.
  const env = {
    ...process.env,
    HOME: root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CEILING_DIRECTORIES: root,
    LC_ALL: "C",
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.com",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.com",
  };
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync("git", args, { cwd, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(origin, file)), { recursive: true });
    writeFileSync(join(origin, file), text);
  };
  /** Runs the exact argv; returns stdout, or the Problem git's stderr maps to. */
  const changed = (cwd: string, base: string): string[] | Problem => {
    const [bin = "", ...args] = changedFilesCommand(base);
    const r = spawnSync(bin, args, { cwd, env, encoding: "utf8" });
    return r.status === 0 ? parseChangedFiles(r.stdout) : changedFilesProblem(r.stderr, base);
  };

  beforeAll(() => {
    mkdirSync(origin);
    git(origin, "init", "-q", "-b", "main");
    write("migrations/001_init.sql", "CREATE TABLE t (id bigint);\n");
    write("migrations/002_old.sql", "SELECT 1;\n");
    write("migrations/003_gone.sql", "SELECT 1;\n");
    git(origin, "add", ".");
    git(origin, "commit", "-q", "-m", "init");
    git(origin, "checkout", "-q", "-b", "feature");
    write("migrations/001_init.sql", "CREATE TABLE t (id bigint, name text);\n"); // modified
    git(origin, "mv", "migrations/002_old.sql", "migrations/002_renamed.sql"); // renamed
    unlinkSync(join(origin, "migrations/003_gone.sql")); // deleted
    write("migrations/004_ü new.sql", "DROP TABLE t;\n"); // added, non-ASCII name
    git(origin, "add", "-A");
    git(origin, "commit", "-q", "-m", "feature");
    // main moves on after the fork: its new file is not the pull request's change
    git(origin, "checkout", "-q", "main");
    write("migrations/005_main_only.sql", "SELECT 1;\n");
    git(origin, "add", ".");
    git(origin, "commit", "-q", "-m", "main moves");
    git(origin, "checkout", "-q", "feature");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("lists added, modified and renamed files since the fork point, not deleted ones nor main's", () => {
    expect(changed(origin, "main")).toEqual(["migrations/001_init.sql", "migrations/002_renamed.sql", "migrations/004_ü new.sql"]);
  });

  it("a base ref that does not exist is a Problem with a fetch hint", () => {
    const p = changed(origin, "origin/main");
    expect(p).toBeInstanceOf(Problem);
    const { cause_, hint } = p as Problem;
    expect(cause_).toBe('cannot tell which migrations changed: --base "origin/main" does not exist in this clone');
    expect(hint).toMatch(
      /^fetch it: git fetch --no-tags origin main:refs\/remotes\/origin\/main, and in a shallow clone git fetch --unshallow origin/,
    );
  });

  it("a shallow clone: missing base, then no merge base, then the hint's fetch fixes it", () => {
    const clone = join(root, "shallow");
    git(root, "clone", "-q", "--depth", "1", "--branch", "feature", `file://${origin}`, clone);

    const missing = changed(clone, "origin/main");
    expect(missing).toBeInstanceOf(Problem);
    expect((missing as Problem).cause_).toMatch(/does not exist in this clone$/);

    // what CI often does: fetch just the base; the histories still do not meet
    git(clone, "fetch", "-q", "--no-tags", "--depth", "1", "origin", "main:refs/remotes/origin/main");
    const shallow = changed(clone, "origin/main");
    expect(shallow).toBeInstanceOf(Problem);
    expect((shallow as Problem).cause_).toBe(
      'cannot tell which migrations changed: no common history with --base "origin/main" (shallow clone)',
    );
    expect((shallow as Problem).hint).toBe(
      "fetch the full history: git fetch --unshallow origin (in GitHub Actions: actions/checkout with fetch-depth: 0)",
    );

    git(clone, "fetch", "-q", "--unshallow", "origin");
    expect(changed(clone, "origin/main")).toEqual(["migrations/001_init.sql", "migrations/002_renamed.sql", "migrations/004_ü new.sql"]);
  });

  it("outside a repository", () => {
    const bare = join(root, "plain");
    mkdirSync(bare);
    const p = changed(bare, "main");
    expect((p as Problem).cause_).toBe("cannot tell which migrations changed: the source has no .git directory");
  });
});
