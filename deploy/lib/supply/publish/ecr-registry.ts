/**
 * Which registries are Amazon ECR, from the host name alone. No AWS SDK here: the CI module asks this
 * of every registry, and loads ecr.ts (the SDK) only for a push or a login to ECR.
 */

export interface EcrRegistry {
  host: string;
  accountId: string;
  region: string;
  fips: boolean;
  /** Path after the host (`<host>/team`), prefixed to the repository name. */
  namespace?: string;
}

export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
// <acct>.dkr.ecr[-fips].<region>.amazonaws.com[.cn] and the dual-stack <acct>.dkr-ecr[-fips].<region>.on.aws
const ECR_HOST = /^(\d{12})\.dkr(\.|-)ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn|on\.aws)$/;

/** Account and region of a private ECR registry; undefined for any other registry (ECR Public included). */
export function isEcrRegistry(registry: string): EcrRegistry | undefined {
  const [host = "", ...path] = registry
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, "")
    .split("/");
  const m = ECR_HOST.exec(host.replace(/:443$/, ""));
  if (!m) return undefined;
  const [, accountId = "", sep, fips, region = "", domain] = m;
  if (!REGION.test(region) || (sep === "-") !== (domain === "on.aws") || region.startsWith("cn-") !== (domain === "amazonaws.com.cn")) {
    return undefined;
  }
  const namespace = path.filter(Boolean).join("/");
  return { host: host.replace(/:443$/, ""), accountId, region, fips: fips !== undefined, ...(namespace ? { namespace } : {}) };
}

export function ecrRepositoryName(registry: EcrRegistry, repository: string): string {
  return registry.namespace ? `${registry.namespace}/${repository}` : repository;
}
