/** Real git repositories in temp folders, built commit by commit, for the release tests. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface GitRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs an argv (as built by deploy/lib/release/commits/git.ts) in `cwd`, never through a shell. */
export function run(argv: string[], cwd: string, env: Record<string, string> = {}): GitRun {
  const [cmd = "git", ...args] = argv;
  // Fixed identity and dates keep hashes out of the test's control but messages and order exact;
  // GIT_CONFIG_GLOBAL=/dev/null keeps the machine's own git config (signing, hooks) out.
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", LANG: "C", LC_ALL: "C", ...env },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * git as a developer with a fixed identity and no signing, in `cwd`; returns stdout. Throws on a
 * non-zero exit (execFileSync), so a test's setup step cannot fail unnoticed.
 */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false", ...args], {
    cwd,
    stdio: "pipe",
    encoding: "utf8",
  });
}

/** An empty commit with `message`. */
export const commit = (cwd: string, message: string): string => git(cwd, "commit", "-q", "--allow-empty", "-m", message);

export class GitRepo {
  /** Commits made so far: commit N is dated 2026-01-01T10:0N:00Z, so log order is creation order. */
  private made = 0;
  private constructor(readonly dir: string) {}

  static init(): GitRepo {
    const repo = new GitRepo(mkdtempSync(join(tmpdir(), "shipshape-git-")));
    repo.git("init", "--quiet", "--initial-branch=main");
    repo.git("config", "user.name", "Ada Lovelace");
    repo.git("config", "user.email", "ada@example.com");
    return repo;
  }

  /** Runs git here and fails the test on a non-zero exit. */
  git(...args: string[]): string {
    const date = new Date(Date.UTC(2026, 0, 1, 10) + 60_000 * this.made).toISOString();
    const r = run(["git", ...args], this.dir, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    return r.stdout.trim();
  }

  /**
   * A commit with this message (git's default clean-up for -m applies); returns its full hash.
   * Each adds its own file: git revert refuses a commit that changed nothing.
   */
  commit(message: string): string {
    writeFileSync(join(this.dir, `change-${++this.made}.txt`), `${message}\n`);
    this.git("add", "--all");
    this.git("commit", "--quiet", "-m", message);
    return this.head();
  }

  head(): string {
    return this.git("rev-parse", "HEAD");
  }

  tag(name: string, ref = "HEAD"): void {
    this.git("tag", name, ref);
  }

  /** git's own revert message: Revert "<header>" / This reverts commit <hash>. */
  revert(hash: string): string {
    this.made++;
    this.git("revert", "--no-edit", hash);
    return this.head();
  }

  /** A topic branch with these commits, merged back with a real merge commit (2 parents). */
  mergeBranch(branch: string, messages: string[], mergeMessage?: string): string {
    this.git("checkout", "--quiet", "-b", branch);
    for (const m of messages) this.commit(m);
    this.git("checkout", "--quiet", "main");
    this.made++;
    // Without -m git writes its own "Merge branch '<branch>'".
    this.git("merge", "--quiet", "--no-ff", ...(mergeMessage ? ["-m", mergeMessage] : ["--no-edit"]), branch);
    return this.head();
  }

  /** `git clone --depth 1` over file:// (a plain path would ignore --depth). */
  shallowClone(): string {
    const dir = mkdtempSync(join(tmpdir(), "shipshape-shallow-"));
    const r = run(["git", "clone", "--quiet", "--depth", "1", `file://${this.dir}`, dir], tmpdir());
    if (r.status !== 0) throw new Error(`shallow clone failed: ${r.stderr}`);
    return dir;
  }
}
