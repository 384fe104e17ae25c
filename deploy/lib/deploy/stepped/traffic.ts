/**
 * The one place a stepped canary changes traffic. Every change is recorded (timeline, traffic
 * history, progress line); restoring the stable split tries harder than a step and never throws,
 * because it runs on the way out of a failure and must not hide that failure.
 */
import type { Action } from "@aws-sdk/client-elastic-load-balancing-v2";
import { describeError } from "../../../src/project/problem.js";
import { progress } from "../../gates/progress.js";
import type { TimelineEvent } from "../watch.js";
import { describeRoute, readRoute, writeRoute, type Elb, type TrafficRoute } from "./elb.js";
import { SAFE, currentSplit, describeSplit, withSplit, type Split, type TargetGroups } from "./weights.js";

export interface TrafficChange {
  /** ISO 8601, from the injected clock. */
  at: string;
  stable: number;
  canary: number;
  why: string;
}

/** Attempts for the restoring write: a throttled restore must outlast the burst that throttled it. */
const RESTORE_ATTEMPTS = 10;

export class Traffic {
  readonly history: TrafficChange[] = [];
  /** What the rule sends as far as this run knows; undefined after a write whose outcome is unknown. */
  current: Split | undefined;

  constructor(
    private readonly elb: Elb,
    readonly route: TrafficRoute,
    readonly tg: TargetGroups,
    private readonly timeline: TimelineEvent[],
  ) {}

  private now(): string {
    return new Date(this.elb.clock.now()).toISOString();
  }

  /** Reads the route and checks it is the weighted pair; a Problem otherwise. */
  async read(): Promise<{ actions: Action[]; split: Split }> {
    const actions = await readRoute(this.elb, this.route);
    return { actions, split: currentSplit(actions, this.tg, describeRoute(this.route)) };
  }

  /** Sets a split from freshly read actions, so edits others made to the rule meanwhile survive. */
  async set(split: Split, why: string): Promise<void> {
    const { actions } = await this.read();
    await this.write(actions, split, why);
  }

  private async write(actions: Action[], split: Split, why: string, attempts?: number): Promise<void> {
    this.current = undefined;
    await writeRoute(this.elb, this.route, withSplit(actions, this.tg, split), attempts ? { attempts } : undefined);
    this.current = split;
    const at = this.now();
    this.history.push({ at, ...split, why });
    this.timeline.push({ at, message: `traffic: ${describeSplit(split)} (${why})` });
    progress("deploy", `traffic ${describeSplit(split)}: ${why}`);
  }

  /**
   * Back to stable 100% / canary 0%. Returns why it failed, or undefined once traffic is safe.
   * A rule that no longer looks like the pair is still forced back: traffic safety comes first.
   */
  async restore(why: string, snapshot: Action[]): Promise<string | undefined> {
    if (this.current && this.current.canary === 0 && this.current.stable > 0) return undefined;
    let actions = snapshot;
    try {
      actions = await readRoute(this.elb, this.route);
      // Someone (an abort, the next run) already put it back: nothing to write.
      const now = currentSplit(actions, this.tg, describeRoute(this.route));
      if (now.canary === 0 && now.stable > 0) {
        this.current = now;
        return undefined;
      }
    } catch {
      // The write below says whether ELB is reachable at all (and forces a rule that no longer
      // looks like the pair back); the snapshot has the right shape.
    }
    try {
      await this.write(actions, SAFE, why, RESTORE_ATTEMPTS);
      return undefined;
    } catch (e) {
      const cause = describeError(e).cause;
      this.timeline.push({ at: this.now(), message: `traffic could not be moved back to stable: ${cause}` });
      return cause;
    }
  }
}
