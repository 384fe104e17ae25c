/** shipshape.yaml of the monitor tests' production environment; the stepped one uses the stepped-fixture.ts fakes. */
import { CANARY, STABLE } from "../deploy/stepped-fixture.js";

/** GitHub at `githubApi`, `smoke` as the environment's smoke settings (flow YAML), `extra` lines after them. */
export const productionYaml = (githubApi: string, smoke: string, extra = ""): string => `notifications:
  github: { apiUrl: "${githubApi}" }
environments:
  production:
    cluster: main
    service: api
    region: us-east-1
    containerName: app
    smoke: ${smoke}
${extra}`;

/** A stepped canary on listener rule `rule`, the smoke check on `base`. */
export const steppedMonitorYaml = (githubApi: string, base: string, rule: string): string =>
  productionYaml(
    githubApi,
    `{ baseUrl: "${base}", testHeader: {}, checks: [{ name: health, path: /healthz, retries: 1 }] }`,
    `    steppedCanary:
      listenerRuleArn: "${rule}"
      stableTargetGroupArn: "${STABLE}"
      canaryTargetGroupArn: "${CANARY}"
      canaryService: api-canary
      steps: [{ weight: 20, pauseMinutes: 10 }, { weight: 100, pauseMinutes: 10 }]
`,
  );
