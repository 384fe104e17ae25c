/**
 * What every stateful AWS fake shares: a log of the calls made, and faults a test scripts before
 * the model answers (an IAM denial naming the action, or the next calls failing with given errors,
 * e.g. throttling). Each fake says how its service spells throttling and AccessDenied.
 */
export abstract class FakeAwsService {
  readonly calls: { command: string; input: unknown }[] = [];
  private readonly failures = new Map<string, Error[]>();
  private readonly denied = new Set<string>();
  private readonly appliedThenFailed = new Map<string, Error[]>();
  /** Calls made and the call the run dies before; shared by fakes of one process (shareCrash), as one kill stops every client. */
  private crash: { calls: number; at?: number } = { calls: 0 };

  /** The service's own throttling error (ECS: ThrottlingException; Query-protocol APIs: Throttling). */
  protected abstract throttlingError(): Error;
  /** The service's AccessDenied for `command`, worded as IAM words it. */
  protected abstract accessDenied(command: string): Error;

  /** The next calls of `command` fail with these errors, in order. */
  fail(command: string, ...errors: Error[]): void {
    this.failures.set(command, [...(this.failures.get(command) ?? []), ...errors]);
  }

  throttle(command: string, times: number): void {
    this.fail(command, ...Array.from({ length: times }, () => this.throttlingError()));
  }

  /** Every call of `command` is refused as IAM refuses it, naming the action. */
  deny(command: string): void {
    this.denied.add(command);
  }

  /**
   * The run dies before its n-th call from now (1 = the next): that call and every later one never
   * reach the service, as when the process is killed. revive() lets the next run in.
   */
  crashAfter(n: number): void {
    this.crash.at = this.crash.calls + n;
  }

  revive(): void {
    this.crash.at = undefined;
  }

  get crashed(): boolean {
    return this.crash.at !== undefined && this.crash.calls + 1 >= this.crash.at;
  }

  /** One process calling both services: calls count across both, and a crash stops both. */
  shareCrash(other: FakeAwsService): void {
    other.crash = this.crash;
  }

  /** The next calls of `command` take effect, then their answer is lost with this error (a timeout, a 5xx after the write). */
  failAfterApplying(command: string, ...errors: Error[]): void {
    this.appliedThenFailed.set(command, [...(this.appliedThenFailed.get(command) ?? []), ...errors]);
  }

  inputs<T>(command: string): T[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.input as T);
  }

  count(command: string): number {
    return this.inputs(command).length;
  }

  /** Logs the call, then throws a scripted denial or failure, if any, before the model answers. */
  protected enter(command: string, input: unknown): void {
    if (this.crashed) throw new Error(`crash: the run was killed before ${command}`);
    this.crash.calls++;
    this.calls.push({ command, input: structuredClone(input) });
    if (this.denied.has(command)) throw this.accessDenied(command);
    const injected = this.failures.get(command)?.shift();
    if (injected) throw injected;
  }

  /** After the model answered: an answer lost on the way back, if one is scripted. */
  protected leave(command: string): void {
    const lost = this.appliedThenFailed.get(command)?.shift();
    if (lost) throw lost;
  }
}
