/** Progress lines for long steps; the engine shows a function's stderr under its span. */
export function progress(step: string, message: string): void {
  process.stderr.write(`[shipshape] ${step}: ${message}\n`);
}
