/**
 * The baseline for scripts/bench-entrypoint.ts: the smallest module the TypeScript runtime can
 * invoke, one object with one function. Not part of Shipshape (dagger.json excludes scripts/).
 */
import { func, object } from "@dagger.io/dagger";

@object()
export class Trivial {
  /** Returns a greeting. */
  @func()
  hello(): string {
    return "hello";
  }
}
