/**
 * Real signing keys made at run time (never committed: gitleaks scans this repository): SSH keys
 * from ssh-keygen and GPG keys from gpg in a temp GNUPGHOME, and commits signed with them by git.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ENV = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", LANG: "C", LC_ALL: "C" };

export interface SshKey {
  /** Path of the private key (user.signingkey may name the .pub next to it). */
  path: string;
  /** "ssh-ed25519 AAAA..." without the comment, as an allowed signers line takes it. */
  publicKey: string;
}

export function sshKey(name: string): SshKey {
  const path = join(mkdtempSync(join(tmpdir(), "shipshape-ssh-")), name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], { env: ENV });
  const [type = "", base64 = ""] = readFileSync(`${path}.pub`, "utf8").split(" ");
  return { path, publicKey: `${type} ${base64}` };
}

/**
 * `user`'s key certified by `ca` for `principals` (ssh-keygen -s), valid from a day ago for `validity`
 * (ssh-keygen -V, default a month): signing with it (user.signingkey = the certificate) makes git
 * sign with the certificate, as an organisation's SSH CA hands them out.
 */
export function sshCertificate(ca: SshKey, user: SshKey, principals: string[], validity = "-1d:+30d"): SshKey {
  const dir = mkdtempSync(join(tmpdir(), "shipshape-ssh-cert-"));
  const path = join(dir, "id");
  copyFileSync(user.path, path);
  chmodSync(path, 0o600);
  copyFileSync(`${user.path}.pub`, `${path}.pub`);
  execFileSync(
    "ssh-keygen",
    ["-q", "-s", ca.path, "-I", principals[0] ?? "cert", "-n", principals.join(","), "-V", validity, `${path}.pub`],
    {
      env: ENV,
    },
  );
  // ssh-keygen -Y sign -f id-cert.pub signs with the private key beside it, id.
  return { path: `${path}-cert.pub`, publicKey: user.publicKey };
}

/** One GnuPG home holding every test key; its agent (started to sign) is stopped by close(). */
export class GpgKeys {
  readonly home = mkdtempSync(join(tmpdir(), "shipshape-gpg-"));
  /** A gpg that thinks it is 2020-01-01 06:00 UTC, to make and sign with a key that has expired since. */
  readonly pastGpg = join(this.home, "gpg-2020");

  constructor() {
    chmodSync(this.home, 0o700);
    writeFileSync(this.pastGpg, '#!/bin/sh\nexec gpg --faked-system-time 20200101T060000 "$@"\n', { mode: 0o755 });
  }

  private gpg(args: string[], program = "gpg"): string {
    return execFileSync(program, ["--batch", "--quiet", "--no-tty", ...args], {
      env: { ...ENV, GNUPGHOME: this.home },
      encoding: "utf8",
      stdio: "pipe",
    });
  }

  /** A passphrase-less ed25519 signing key for `Name <email>`; `expired` makes it in 2020, valid one day. */
  add(name: string, email: string, opts: { expired?: boolean } = {}): string {
    const expiry = opts.expired ? "1d" : "0";
    this.gpg(["--passphrase", "", "--quick-gen-key", `${name} <${email}>`, "ed25519", "sign", expiry], opts.expired ? this.pastGpg : "gpg");
    const colons = this.gpg(["--with-colons", "--list-keys", `<${email}>`]);
    return /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(colons)?.[1] ?? "";
  }

  /** `gpg --armor --export` of these keys: what a repository commits as its keys file. */
  exportArmored(...ids: string[]): string {
    return this.gpg(["--armor", "--export", ...ids]);
  }

  close(): void {
    execFileSync("gpgconf", ["--kill", "gpg-agent"], { env: { ...ENV, GNUPGHOME: this.home } });
  }
}

export type Signing = { ssh: SshKey } | { gpg: GpgKeys; key: string; past?: boolean } | { none: true };

/** An empty commit by `email`, signed as `how` says; returns its full hash. */
export function signedCommit(cwd: string, email: string, how: Signing, message: string): string {
  const base = ["-c", "user.name=Signer", "-c", `user.email=${email}`];
  const sign =
    "ssh" in how
      ? ["-c", "gpg.format=ssh", "-c", `user.signingkey=${how.ssh.path}`]
      : "gpg" in how
        ? ["-c", "gpg.format=openpgp", "-c", `user.signingkey=${how.key}`, "-c", `gpg.program=${how.past ? how.gpg.pastGpg : "gpg"}`]
        : ["-c", "commit.gpgsign=false"];
  const env = "gpg" in how ? { ...ENV, GNUPGHOME: how.gpg.home } : ENV;
  const flag = "none" in how ? [] : ["-S"];
  execFileSync("git", [...base, ...sign, "commit", "-q", "--allow-empty", ...flag, "-m", message], { cwd, env, stdio: "pipe" });
  return execFileSync("git", ["rev-parse", "HEAD"], { cwd, env, encoding: "utf8" }).trim();
}

/** A copy of `hash` with its message changed and its signature kept: what tampering looks like. */
export function tampered(cwd: string, hash: string, from: string, to: string): string {
  const raw = execFileSync("git", ["cat-file", "commit", hash], { cwd, env: ENV, encoding: "utf8" });
  return execFileSync("git", ["hash-object", "-t", "commit", "-w", "--stdin"], {
    cwd,
    env: ENV,
    input: raw.replace(from, to),
    encoding: "utf8",
  }).trim();
}
