/**
 * The `commits:` section of shipshape.yaml (added to ShipshapeConfigSchema with `.prefault({})`).
 * Strict and fully defaulted like every other section.
 */
import { z } from "zod";
import { expecting } from "../../config/errors.js";

/** Paths are read from git at --base (`<sha>:<path>`, no shell): relative, no `..` segment, not option-like. */
const repoFile = (example: string, description: string) =>
  expecting(
    z
      .string()
      .regex(/^(?![/\\-])(?!.*(?:^|[/\\])\.\.(?:[/\\]|$)).+$/)
      .describe(description),
    `a file path relative to the repository root, like "${example}"`,
  );

export const SignaturesConfigSchema = z
  .strictObject({
    required: z
      .boolean()
      .default(false)
      .describe("Fail the commits gate unless every commit in the range is signed (SSH or GPG) by an allowed signer who is its committer."),
    allowedSigners: repoFile(
      ".github/allowed_signers",
      "SSH allowed signers file (ssh-keygen(1) ALLOWED SIGNERS: `<email> [options] <keytype> <base64 key>` per line), read at --base.",
    ).optional(),
    gpgKeys: repoFile(
      ".github/signing-keys.asc",
      "Armored OpenPGP public keys (`gpg --armor --export <ids>`) whose signatures count, read at --base; no other keyring is used.",
    ).optional(),
  })
  // Required with neither file would fail every commit for a reason the config could have said.
  .refine((s) => !s.required || s.allowedSigners !== undefined || s.gpgKeys !== undefined, {
    message: 'required: true needs allowedSigners (SSH), gpgKeys (GPG) or both, e.g. allowedSigners: ".github/allowed_signers"',
    path: ["required"],
  })
  .describe(
    "Signed commits. Both files are read from the --base commit, not the change under review, so a change cannot approve its own signer.",
  );

export const CommitsConfigSchema = z
  .strictObject({
    signatures: SignaturesConfigSchema.prefault({}),
  })
  .describe("The commits gate: Conventional Commits messages and, optionally, signatures.");

export type SignaturesConfig = z.infer<typeof SignaturesConfigSchema>;
export type CommitsConfig = z.infer<typeof CommitsConfigSchema>;
