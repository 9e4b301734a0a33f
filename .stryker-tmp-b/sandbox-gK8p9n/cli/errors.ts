/**
 * How a failure leaves the CLI: one line `sluice: <reason>` on stderr and,
 * with `--json`, one error object on stdout, so scripts never parse prose.
 */
// @ts-nocheck


/** The `--json` shape of a failure. */
export interface JsonError {
  readonly error: {
    readonly message: string;
    readonly name: string;
    /** The input field at fault, when the error names one. */
    readonly field?: string;
    /** A failed run's record, when a sync failed. */
    readonly run?: unknown;
  };
}

/**
 * A message as one line: the first paragraph, its lines joined. Query engines
 * append hints and a caret under the SQL after a blank line; those stay out.
 */
export function oneLine(message: string): string {
  const paragraph = message.trim().split(/\n\s*\n/)[0] ?? '';
  return paragraph
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join(' ');
}

export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return oneLine(message) || (error instanceof Error ? error.name : 'unknown error');
}

export function jsonError(error: unknown): JsonError {
  const name = error instanceof Error ? error.name : 'Error';
  const details = (error ?? {}) as { field?: unknown; run?: unknown };
  return {
    error: {
      message: reasonOf(error),
      name,
      ...(typeof details.field === 'string' ? { field: details.field } : {}),
      ...(details.run !== undefined && typeof details.run === 'object' ? { run: details.run } : {}),
    },
  };
}
