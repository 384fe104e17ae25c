/** A Secret's value for an SDK or HTTP call in this process, trimmed (env:// and file:// values often end in a newline); blank means absent. */
import type { Secret } from "@dagger.io/dagger";

export const secretText = async (s?: Secret): Promise<string | undefined> => (s ? (await s.plaintext()).trim() || undefined : undefined);
