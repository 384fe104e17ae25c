/**
 * Packages and their licenses out of an SPDX 2.x JSON document (syft `-o spdx-json`, Trivy
 * `--format spdx-json`, vendor SBOMs). Same tolerance as the CycloneDX reader: strict about the
 * few fields read, indifferent to the rest.
 *
 * License choice per package: licenseConcluded when it asserts something, else licenseDeclared.
 * NOASSERTION (and NONE, "no license information at all") mean no license is known. A
 * `LicenseRef-x` defined in hasExtractedLicensingInfos is read as its name, or as its extracted
 * text when that is one short line (vendor tools put "GPL-2.0" there), so the policy can judge it.
 */
import { z } from "zod";
import type { SbomComponent } from "./cyclonedx.js";

const NO_LICENSE = new Set(["NOASSERTION", "NONE", ""]);

const PackageSchema = z.object({
  name: z.string(),
  SPDXID: z.string(),
  versionInfo: z.string().optional(),
  licenseConcluded: z.string().optional(),
  licenseDeclared: z.string().optional(),
  primaryPackagePurpose: z.string().optional(),
  externalRefs: z.array(z.object({ referenceCategory: z.string(), referenceType: z.string(), referenceLocator: z.string() })).optional(),
});

const DocumentSchema = z.object({
  spdxVersion: z.string().regex(/^SPDX-2\.\d+$/),
  documentDescribes: z.array(z.string()).optional(),
  relationships: z.array(z.object({ spdxElementId: z.string(), relatedSpdxElement: z.string(), relationshipType: z.string() })).optional(),
  packages: z.array(PackageSchema).optional(),
  hasExtractedLicensingInfos: z
    .array(z.object({ licenseId: z.string(), extractedText: z.string().optional(), name: z.string().optional() }))
    .optional(),
});

type SpdxPackage = z.infer<typeof PackageSchema>;

export function isSpdxJson(data: unknown): boolean {
  return typeof data === "object" && data !== null && "spdxVersion" in data;
}

function purlOf(p: SpdxPackage): string | undefined {
  // SPDX 2.2 writes PACKAGE-MANAGER, 2.3 allows PACKAGE_MANAGER too; syft writes the former.
  return p.externalRefs?.find((r) => r.referenceType === "purl" && /^PACKAGE[-_]MANAGER$/.test(r.referenceCategory))?.referenceLocator;
}

/**
 * The document's subject (the image, a directory) is a package too; it is the build, not a
 * dependency: what the document DESCRIBES, plus syft's DocumentRoot / CONTAINER markers.
 */
function subjects(doc: z.infer<typeof DocumentSchema>): (p: SpdxPackage) => boolean {
  const described = new Set([
    ...(doc.documentDescribes ?? []),
    ...(doc.relationships ?? [])
      .filter((r) => r.spdxElementId === "SPDXRef-DOCUMENT" && r.relationshipType === "DESCRIBES")
      .map((r) => r.relatedSpdxElement),
  ]);
  return (p) => described.has(p.SPDXID) || p.SPDXID.startsWith("SPDXRef-DocumentRoot-") || p.primaryPackagePurpose === "CONTAINER";
}

function licenseOf(p: SpdxPackage, refs: Map<string, string>): string | undefined {
  const chosen = [p.licenseConcluded, p.licenseDeclared].map((l) => l?.trim() ?? "").find((l) => !NO_LICENSE.has(l));
  if (chosen === undefined) return undefined;
  return chosen.replace(/LicenseRef-[A-Za-z0-9.-]+/g, (ref) => refs.get(ref) ?? ref);
}

function licenseRefs(doc: z.infer<typeof DocumentSchema>): Map<string, string> {
  const refs = new Map<string, string>();
  for (const info of doc.hasExtractedLicensingInfos ?? []) {
    const text = info.name?.trim() || info.extractedText?.trim() || "";
    // A whole license text is no identifier; only a short one-line name is substituted.
    if (text && !text.includes("\n") && text.length <= 64 && text !== "NOASSERTION") {
      refs.set(info.licenseId, /\s(AND|OR|WITH)\s/.test(text) ? `(${text})` : text);
    }
  }
  return refs;
}

export function parseSpdxJson(text: string): SbomComponent[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`the SBOM is not valid JSON (truncated?): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const parsed = DocumentSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "top level" : issue.path.join(".");
    throw new Error(`the SBOM is not an SPDX 2.x JSON document at ${where}: ${issue?.message ?? "invalid"}`);
  }
  const refs = licenseRefs(parsed.data);
  const isSubject = subjects(parsed.data);
  return (parsed.data.packages ?? [])
    .filter((p) => !isSubject(p))
    .map((p) => {
      const component: SbomComponent = { name: p.name, version: p.versionInfo ?? "" };
      const purl = purlOf(p);
      if (purl !== undefined) component.purl = purl;
      const licenses = licenseOf(p, refs);
      if (licenses !== undefined) component.licenses = licenses;
      return component;
    });
}
