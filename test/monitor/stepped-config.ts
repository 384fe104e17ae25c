/** shipshape.yaml of a production environment that deploys with a stepped canary (the stepped-fixture.ts fakes). */
import { CANARY, STABLE } from "../deploy/stepped-fixture.js";

/** GitHub at `githubApi`, the smoke check on `base`, the canary's weights on listener rule `rule`. */
export const steppedMonitorYaml = (githubApi: string, base: string, rule: string): string => `notifications:
  github: { apiUrl: "${githubApi}" }
environments:
  production:
    cluster: main
    service: api
    region: us-east-1
    containerName: app
    smoke: { baseUrl: "${base}", testHeader: {}, checks: [{ name: health, path: /healthz, retries: 1 }] }
    steppedCanary:
      listenerRuleArn: "${rule}"
      stableTargetGroupArn: "${STABLE}"
      canaryTargetGroupArn: "${CANARY}"
      canaryService: api-canary
      steps: [{ weight: 20, pauseMinutes: 10 }, { weight: 100, pauseMinutes: 10 }]
`;
