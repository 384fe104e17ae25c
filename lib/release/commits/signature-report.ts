/** The signed-commits verdict of a range: cause, hint, the Markdown section and the JSON machine file. */
import type { SignatureProblem, SignatureVerdict } from "./signatures.js";

export interface SignatureResult {
  status: "passed" | "failed";
  checked: number;
  offenders: SignatureVerdict[];
  cause: string;
  hint: string;
}

/** What to do about each kind, in the order the hint lists them. */
const FIXES: Record<SignatureProblem, string> = {
  unsigned:
    "sign commits (git config commit.gpgsign true, with gpg.format ssh and user.signingkey for SSH) and re-sign these with `git rebase --exec 'git commit --amend --no-edit -S' <base>`",
  "not allowed":
    "add the signer's public key to the allowed signers / gpg keys file on the base branch first, or re-sign with an allowed key",
  "not the committer": "commit with the e-mail the signing key is listed for (git config user.email), or list the key for this e-mail",
  "bad signature": "re-sign the commit (git commit --amend -S); if nobody changed it on purpose, find out who did",
  expired: "extend the key's expiry and export it to the keys file again, or re-sign with a valid key",
  revoked: "re-sign with a key that is not revoked and drop the revoked one from the keys file",
};

export function signatureResult(verdicts: SignatureVerdict[]): SignatureResult {
  const offenders = verdicts.filter((v) => v.problem !== undefined);
  const checked = verdicts.length;
  if (offenders.length === 0) {
    const cause =
      checked === 0
        ? "no commits to check"
        : `${checked} ${checked === 1 ? "commit is" : "commits are"} signed by their committer, an allowed signer`;
    return { status: "passed", checked, offenders, cause, hint: "" };
  }
  const kinds = [...new Set(offenders.map((o) => o.problem!))];
  const counts = kinds.map((k) => `${offenders.filter((o) => o.problem === k).length} ${k}`).join(", ");
  return {
    status: "failed",
    checked,
    offenders,
    cause: `${offenders.length} of ${checked} commits are not signed by an allowed signer (${counts})`,
    hint: kinds.map((k) => FIXES[k]).join("; "),
  };
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/`/g, "'");

export function renderSignaturesMarkdown(r: SignatureResult): string {
  const head = `### ${r.status === "passed" ? "✅" : "❌"} Commit signatures\n\n${r.cause}`;
  if (r.status === "passed") return `${head}\n`;
  const rows = r.offenders.map((o) => `| \`${o.hash}\` | \`${cell(o.subject)}\` | ${o.problem} | ${cell(o.detail)} |`);
  return [head, "", "| Commit | Subject | Problem | Detail |", "|---|---|---|---|", ...rows, "", `**Fix:** ${r.hint}`].join("\n") + "\n";
}

/** signatures.json: every commit checked, so a tool can tell "checked and fine" from "not checked". */
export function signaturesJson(r: SignatureResult, verdicts: SignatureVerdict[]): string {
  const commits = verdicts.map((v) => ({
    commit: v.hash,
    subject: v.subject,
    ok: v.problem === undefined,
    problem: v.problem ?? null,
    detail: v.detail,
  }));
  return JSON.stringify({ status: r.status, checked: r.checked, failed: r.offenders.length, commits }, null, 2) + "\n";
}
