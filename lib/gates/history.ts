/**
 * Release hygiene from git history, read in a git container: the conventional-commit check of a
 * range, and the next semantic version with its changelog since the last release tag.
 */
import { dag, type Container, type Directory } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../../deploy/lib/config/schema.js";
import { plural } from "../../deploy/src/report/outcome.js";
import { checkCommits, renderCommitsMarkdown } from "../release/commits/check.js";
import {
  checkRefArgument,
  gitLogCommand,
  gitProblem,
  isShallowCommand,
  lastReleaseTagCommand,
  parseGitLog,
  parseIsShallow,
  parseLastReleaseTag,
  noCommitsProblem,
  shallowProblem,
  unknownRefProblem,
  verifyCommitCommand,
  type Commit,
  type RefArgument,
} from "../../deploy/lib/release/commits/git.js";
import { Problem, quoted } from "../../deploy/src/project/problem.js";
import { parseAllowedSigners } from "../release/commits/allowed-signers.js";
import { renderSignaturesMarkdown, signatureResult, signaturesJson, type SignatureResult } from "../release/commits/signature-report.js";
import {
  checkArmoredKeys,
  GNUPG_HOME,
  importKeysCommand,
  judgeSignature,
  listKeysCommand,
  missingFileProblem,
  parseKeyEmails,
  parseSignatureLog,
  readAtCommand,
  setupCommand,
  signatureLogCommand,
  toolProblem,
  type SignatureVerdict,
  type Trust,
} from "../release/commits/signatures.js";
import { renderChangelog } from "../release/version/changelog.js";
import { nextVersion, type NextVersion } from "../release/version/next.js";
import type { Verdict } from "../../deploy/lib/gates/gate.js";
import { gitContainer, safeGit } from "../../deploy/lib/gates/git.js";
import { progress } from "../../deploy/lib/gates/progress.js";
import { run } from "../../deploy/lib/gates/workspace.js";

async function git(config: ShipshapeConfig, source: Directory, cmd: string[]) {
  return run(gitContainer(config, source), safeGit(cmd));
}

async function log(config: ShipshapeConfig, source: Directory, range: string, shallow: boolean): Promise<Commit[]> {
  progress("history", `git log ${range}`);
  const step = await git(config, source, gitLogCommand(range));
  if (step.exitCode !== 0) throw gitProblem(step.stderr, { shallow });
  return parseGitLog(step.stdout);
}

async function isShallow(config: ShipshapeConfig, source: Directory): Promise<boolean> {
  const step = await git(config, source, isShallowCommand());
  if (step.exitCode !== 0) throw gitProblem(step.stderr);
  return parseIsShallow(step.stdout);
}

/** The commit a checked ref argument names, or the Problem that names the argument. */
async function resolveCommit(config: ShipshapeConfig, source: Directory, arg: RefArgument, ref: string, shallow: boolean): Promise<string> {
  const step = await git(config, source, verifyCommitCommand(ref));
  const sha = step.stdout.trim();
  if (step.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  if (step.exitCode !== 1) throw gitProblem(step.stderr, { shallow });
  // HEAD names nothing only before the first commit.
  throw arg === "--head" && ref === "HEAD" ? noCommitsProblem() : unknownRefProblem(arg, ref, shallow);
}

/** A trust file as committed at --base, or the Problem saying it is not there. */
async function readAtBase(config: ShipshapeConfig, source: Directory, what: string, path: string, baseSha: string): Promise<string> {
  const step = await git(config, source, readAtCommand(baseSha, path));
  if (step.exitCode === 0) return step.stdout;
  if (/^fatal: path '.*' does not exist in /m.test(step.stderr)) throw missingFileProblem(what, path, baseSha);
  throw gitProblem(step.stderr);
}

type Signatures = ShipshapeConfig["commits"]["signatures"];

/**
 * git with gpg and ssh-keygen, the allowed signers file and our own GnuPG home holding only the
 * allowed keys, all taken from --base. Checked before any commit is: a file that does not parse
 * is an ERROR even when the range is empty, never a pass.
 */
async function verifier(
  config: ShipshapeConfig,
  source: Directory,
  sig: Signatures,
  baseSha: string,
): Promise<{ ctr: Container; trust: Trust }> {
  const { allowedSigners, gpgKeys } = sig;
  const signers = allowedSigners
    ? parseAllowedSigners(allowedSigners, await readAtBase(config, source, "allowed signers file", allowedSigners, baseSha))
    : [];
  if (gpgKeys) checkArmoredKeys(gpgKeys, await readAtBase(config, source, "gpg keys file", gpgKeys, baseSha));
  const tools = gitContainer(config, source)
    .withExec(["apk", "add", "--no-cache", "gpg", "openssh-keygen"])
    .withEnvVariable("GNUPGHOME", GNUPG_HOME);
  const at = (path: string | undefined) => path && `${baseSha}:${path}`;
  const setup = await run(tools, setupCommand(at(allowedSigners), at(gpgKeys)));
  if (setup.exitCode !== 0) throw gitProblem(setup.stderr);
  let ctr = setup.ctr;
  let gpgEmails = new Map<string, string[]>();
  if (gpgKeys) {
    const imported = await run(ctr, importKeysCommand());
    const listed = await run(imported.ctr, listKeysCommand());
    gpgEmails = parseKeyEmails(listed.stdout);
    if (imported.exitCode !== 0 || gpgEmails.size === 0) {
      // gpg's last word is the one that says why ("no valid OpenPGP data found"); the rest is noise.
      const said =
        /no valid OpenPGP data found|no keys? (?:found|imported)/.exec(imported.stderr)?.[0] ??
        (gpgEmails.size ? `gpg exited ${imported.exitCode} (some key in it is unusable)` : "no public key imported");
      throw new Problem(
        `gpg keys file ${quoted(gpgKeys)} does not import: ${said}`,
        `write it with \`gpg --armor --export <key ids> > ${gpgKeys}\` (public keys only)`,
      );
    }
    ctr = listed.ctr;
  }
  return { ctr, trust: { allowedSignersPath: allowedSigners, signers, gpgKeysPath: gpgKeys, gpgEmails } };
}

async function signatureCheck(
  config: ShipshapeConfig,
  source: Directory,
  baseSha: string,
  headSha: string,
): Promise<{ result: SignatureResult; verdicts: SignatureVerdict[] }> {
  progress("history", "reading the allowed signers and keys at --base");
  const { ctr, trust } = await verifier(config, source, config.commits.signatures, baseSha);
  let verdicts: SignatureVerdict[] = [];
  if (baseSha !== headSha) {
    progress("history", `verifying the signature of each commit in ${baseSha.slice(0, 7)}..${headSha.slice(0, 7)}`);
    const step = await run(ctr, safeGit(signatureLogCommand(`${baseSha}..${headSha}`)));
    const tool = toolProblem(step.stderr);
    if (tool) throw tool;
    if (step.exitCode !== 0) throw gitProblem(step.stderr);
    verdicts = parseSignatureLog(step.stdout).map((c) => judgeSignature(c, trust));
  }
  return { result: signatureResult(verdicts), verdicts };
}

/**
 * A range that cannot be told (empty, option-like or unknown --base / --head) is an ERROR: it must
 * never pass having checked nothing. A range that is really empty passes, saying so.
 */
export async function commitsCheck(
  config: ShipshapeConfig,
  source: Directory,
  base: string,
  head: string,
): Promise<{ verdict: Verdict; files: Directory }> {
  checkRefArgument("--base", base);
  checkRefArgument("--head", head);
  const shallow = await isShallow(config, source);
  const headSha = await resolveCommit(config, source, "--head", head, shallow);
  const baseSha = await resolveCommit(config, source, "--base", base, shallow);
  const commits = baseSha === headSha ? [] : await log(config, source, `${base}..${head}`, shallow);
  const r = checkCommits(commits);
  const signed = config.commits.signatures.required ? await signatureCheck(config, source, baseSha, headSha) : undefined;
  const failed = [r, ...(signed ? [signed.result] : [])].filter((x) => x.status === "failed");
  const nothing = `nothing changed: ${baseSha === headSha ? "--base and --head are the same commit" : "--head is already in --base"} (${quoted(base)}..${quoted(head)})`;
  const allSigned = signed?.result.status === "passed" && commits.length ? ", all signed by allowed signers" : "";
  const summary =
    commits.length === 0
      ? `0 commits checked — ${nothing}`
      : `${plural(r.checked, "commit")} checked${r.ignored ? `, ${r.ignored} ignored (merges, reverts, fixups)` : ""}${allSigned}`;
  const cause = failed.map((x) => x.cause).join("; ");
  const sigFindings = (signed?.result.offenders ?? []).map((o) => `${o.hash} "${o.subject}": ${o.detail}`);
  const msgFindings = r.offenders.map((o) => `${o.hash} "${o.header}": ${o.problems.join("; ")}`);
  let files = dag
    .directory()
    .withNewFile("commits.md", renderCommitsMarkdown(r) + (signed ? `\n${renderSignaturesMarkdown(signed.result)}` : ""));
  if (signed) files = files.withNewFile("signatures.json", signaturesJson(signed.result, signed.verdicts));
  return {
    verdict: {
      status: failed.length ? "failed" : "passed",
      summary: failed.length ? `${summary} — ${cause}` : summary,
      cause,
      hint: failed.map((x) => x.hint).join("; "),
      metrics: {
        checked: r.checked,
        ignored: r.ignored,
        offenders: r.offenders.length,
        ...(signed ? { signatureOffenders: signed.result.offenders.length } : {}),
      },
      findings: [...msgFindings, ...sigFindings].slice(0, 20),
      log: "",
    },
    files,
  };
}

export interface VersionResult {
  next: NextVersion;
  changelog: string;
}

/** A shallow clone would hide the tags and restart versioning at 1.0.0: refuse it instead. */
export async function computeVersion(config: ShipshapeConfig, source: Directory, repoUrl: string, today: Date): Promise<VersionResult> {
  if (await isShallow(config, source)) throw shallowProblem();
  const tags = await git(config, source, lastReleaseTagCommand());
  if (tags.exitCode !== 0) throw gitProblem(tags.stderr);
  const last = parseLastReleaseTag(tags.stdout);
  const commits = await log(config, source, last ? `${last.tag}..HEAD` : "HEAD", false);
  const next = nextVersion(last?.tag, commits);
  const changelog = renderChangelog(next, commits, { repoUrl: repoUrl || undefined, date: today.toISOString().slice(0, 10) });
  return { next, changelog };
}
