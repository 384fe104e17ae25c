/**
 * What every bad-input case asserts about the answer a user gets: one line of cause that says what
 * is wrong (matched by the case), one line of fix hint, and nothing a terminal would act on.
 */
import { expect } from "vitest";
import { describeError } from "../../deploy/src/project/problem.js";

export interface Answer {
  cause: string;
  hint: string;
}

// \p{Cc}: C0, DEL and C1, written as a property so the linter does not take it for a typo.
const CONTROL = /\p{Cc}/u;

export function expectClear(answer: Answer, cause: RegExp, hint: RegExp = /\S/): void {
  expect(answer.cause).toMatch(cause);
  expect(answer.hint).toMatch(hint);
  for (const line of [answer.cause, answer.hint]) {
    expect(line).not.toMatch(CONTROL); // one line each, no raw escapes
    expect(line).not.toMatch(/^\s+at |node:internal|\.ts:\d+:\d+\)/m); // never a stack trace
  }
}

/** The Problem (or ConfigError) `fn` throws, as the user sees it; fails the case when nothing is thrown. */
export function thrown(fn: () => unknown): Answer {
  try {
    fn();
  } catch (e) {
    return describeError(e);
  }
  throw new Error("expected bad input to be refused, but it was accepted");
}

export async function rejected(p: Promise<unknown>): Promise<Answer> {
  return p.then(
    () => {
      throw new Error("expected bad input to be refused, but it was accepted");
    },
    (e: unknown) => describeError(e),
  );
}
