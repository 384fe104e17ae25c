/**
 * Which AWS errors are worth another attempt, shared by every AWS call Shipshape makes (ECR, ECS,
 * STS...), and how an error reads: its name and its message, scrubbed of anything credential-like.
 * Throttling and 5xx are transient; access, credential and validation errors are not.
 */
export interface AwsError {
  name?: string;
  code?: string;
  message?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; clockSkewCorrected?: boolean };
}

export const asAws = (e: unknown): AwsError => (typeof e === "object" && e !== null ? (e as AwsError) : { message: String(e) });

const RETRYABLE = new Set([
  "ThrottlingException",
  "Throttling", // ELB, CloudWatch and STS (query protocol) send this name with HTTP 400
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "ServerException", // ECS's modelled 5xx
  "InternalFailure",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);

export function isRetryable(e: unknown): boolean {
  const { name = "", code = "", $retryable, $metadata } = asAws(e);
  const status = $metadata?.httpStatusCode ?? 0;
  return (
    RETRYABLE.has(name) ||
    $retryable !== undefined ||
    status === 429 ||
    status >= 500 ||
    $metadata?.clockSkewCorrected === true || // the SDK fixed its clock offset; the next attempt signs right
    ["ECONNRESET", "ETIMEDOUT", "EPIPE"].includes(code)
  );
}

export interface RetryOptions {
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  /** Injected so tests run on fake time. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const errorName = (e: unknown): string => asAws(e).name ?? "Error";

/** AWS messages can quote access key ids and signing scopes; nothing of that reaches a log. */
export function scrub(text: string): string {
  return text
    .replace(/\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b/g, "***")
    .replace(/Credential=[^,\s]+/g, "Credential=***")
    .replace(/[A-Za-z0-9/+=]{40,}/g, "***");
}

/** What AWS said, on one line and bounded. */
export const saidBy = (e: unknown): string => scrub((asAws(e).message ?? "").split("\n")[0] ?? "").slice(0, 300);
