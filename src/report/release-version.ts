/** The next release computed from history: usable as the git tag and as image tags. */
import { func, object } from "@dagger.io/dagger";

/** The next release: version, git tag, image tags and changelog. */
@object()
export class ReleaseVersion {
  /** Version of the last release tag; empty before the first release. */
  @func() current!: string;
  /** Next version; empty when nothing releasable was committed since the last release. */
  @func() next!: string;
  /** major, minor, patch or none. */
  @func() bump!: string;
  /** Git tag for the release, e.g. v1.4.0; empty when there is no release. */
  @func() gitTag!: string;
  /** Image tags for the release, e.g. 1.4.0, 1.4, 1. */
  @func() imageTags!: string[];
  /** Release notes in Markdown, grouped by type. */
  @func() changelog!: string;
  /** Why: one line per commit that counts. */
  @func() reasons!: string[];

  /** True when there is something to release. */
  @func()
  released(): boolean {
    return this.next !== "";
  }
}
