/**
 * Repository-relative paths in everything a person or a code-scanning upload reads. Gates run
 * their tools on container paths (deploy/lib/gates/commands.ts SOURCE_DIR and REPORTS_DIR, squawk's
 * /data, history's /repo, the image tarball under /scan, VEX files under /vex), and tools echo
 * them back: ESLint's filePath, Node's stack traces, tsc's "Cannot read file", Trivy's Target.
 * This is the one place that knows those mount points, so no gate has to remember them.
 */

/** [container prefix, what a user reads instead]; longest first where one contains another. */
const ROOTS: [RegExp, string][] = [
  // A report file is named as it is in the gate's exported files.
  [/\/shipshape\/reports\//g, ""],
  // The repository itself: /src (every Node gate), /data (squawk's WORKDIR), /repo (the .git for history).
  [/\/(?:src|data|repo)\//g, ""],
  // vexMountPath's "/vex/<index>-<basename>": the basename of the project's own file.
  [/\/vex\/\d+-/g, ""],
  // The image Trivy and Syft read, docker-saved to this tarball.
  [/\/scan\/image\.tar\b/g, "image"],
];

/**
 * A container root only where a path starts: not inside a URL (https://host/src/...), a longer
 * path (/home/me/src/...) or a word. Lookbehind keeps the character before it untouched.
 */
const START = String.raw`(?<![\w.~:/@%+-])`;
const ANCHORED = ROOTS.map(([re, to]): [RegExp, string] => [new RegExp(START + re.source, "g"), to]);
/** The bare repository root ("trivy fs /src", "file:///src"), followed by nothing path-like. */
const BARE_ROOT = new RegExp(String.raw`${START}/(?:src|data|repo)(?![\w./-])`, "g");

/** Every container path in free text (a summary, a log tail, a tool message) made repository-relative. */
export function repoRelativeText(text: string): string {
  // file:// URLs of stack traces first, so "file:///src/a.js" becomes "a.js", not "file://a.js".
  let out = text.replace(new RegExp(String.raw`${START}file://(?=/(?:src|data|repo)/)`, "g"), "");
  for (const [re, to] of ANCHORED) out = out.replace(re, to);
  return out.replace(BARE_ROOT, ".");
}

/** One path: repository-relative, forward slashes, no "./" prefix; the root itself is ".". */
export function repoRelative(path: string): string {
  const out = repoRelativeText(path.replace(/\\/g, "/")).replace(/^(\.\/)+(?=.)/, "");
  return out === "" ? "." : out;
}

/** True when text still holds a container path (for tests and a last check before output). */
export function hasContainerPath(text: string): boolean {
  return repoRelativeText(text) !== text;
}
