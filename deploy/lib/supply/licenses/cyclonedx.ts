/**
 * Components and their declared licenses out of a CycloneDX JSON SBOM (cyclonedx-npm, Syft,
 * Trivy --format cyclonedx). Tolerant of every field it does not read; strict about the few it does.
 */
import { z } from "zod";

export interface SbomComponent {
  /** npm scope joined with "/" (@babel/parser); other groups with ":" (org.slf4j:slf4j-api, as Maven and Trivy write them). */
  name: string;
  /** "" when the SBOM gives none. */
  version: string;
  purl?: string;
  /** One SPDX-ish expression; several `licenses[]` entries are AND-ed. Undefined when none is declared. */
  licenses?: string;
}

const LicenseChoiceSchema = z.union([
  z.object({ expression: z.string() }),
  z.object({ license: z.object({ id: z.string().optional(), name: z.string().optional() }) }),
]);

interface RawComponent {
  type?: string | undefined;
  group?: string | undefined;
  name: string;
  version?: string | undefined;
  purl?: string | undefined;
  licenses?: z.infer<typeof LicenseChoiceSchema>[] | undefined;
  components?: RawComponent[] | undefined;
}

// Nested components (bundled or nested node_modules in cyclonedx-npm) are flattened.
const ComponentSchema: z.ZodType<RawComponent> = z.object({
  type: z.string().optional(),
  group: z.string().optional(),
  name: z.string(),
  version: z.string().optional(),
  purl: z.string().optional(),
  licenses: z.array(LicenseChoiceSchema).optional(),
  components: z.lazy(() => z.array(ComponentSchema)).optional(),
});

const BomSchema = z.object({
  bomFormat: z.literal("CycloneDX"),
  specVersion: z.string(),
  components: z.array(ComponentSchema).optional(),
});

/** A choice as expression text: ids and expressions as they are, free-text names kept for correction later. */
function choiceText(choice: z.infer<typeof LicenseChoiceSchema>): string | undefined {
  if ("expression" in choice) return choice.expression.trim() || undefined;
  return (choice.license.id ?? choice.license.name)?.trim() || undefined;
}

function licenseExpression(choices: RawComponent["licenses"]): string | undefined {
  const texts = (choices ?? []).map(choiceText).filter((t): t is string => t !== undefined);
  if (texts.length <= 1) return texts[0];
  // Parenthesised only when needed, so "Apache 2 AND MIT" stays splittable for correction.
  return texts.map((t) => (/\s(AND|OR)\s/i.test(t) ? `(${t})` : t)).join(" AND ");
}

function fullName(c: RawComponent): string {
  if (!c.group) return c.name;
  return c.group.startsWith("@") ? `${c.group}/${c.name}` : `${c.group}:${c.name}`;
}

/**
 * Packages only: components with a purl or typed library/framework. Trivy adds an "application"
 * component per lockfile and one per OS, which carry no license of their own.
 */
function isPackage(c: RawComponent): boolean {
  return c.purl !== undefined || c.type === "library" || c.type === "framework";
}

export function parseCycloneDx(text: string): SbomComponent[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`the SBOM is not valid JSON (truncated?): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const parsed = BomSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "top level" : issue.path.join(".");
    throw new Error(`the SBOM is not a CycloneDX JSON document at ${where}: ${issue?.message ?? "invalid"}`);
  }
  const out: SbomComponent[] = [];
  const walk = (list: RawComponent[]) => {
    for (const c of list) {
      if (isPackage(c)) {
        const component: SbomComponent = { name: fullName(c), version: c.version ?? "" };
        if (c.purl !== undefined) component.purl = c.purl;
        const licenses = licenseExpression(c.licenses);
        if (licenses !== undefined) component.licenses = licenses;
        out.push(component);
      }
      walk(c.components ?? []);
    }
  };
  walk(parsed.data.components ?? []);
  return out;
}
