/**
 * stdout carries only results: text for people, or with `--json` exactly one
 * JSON document. Progress, warnings and errors go to stderr.
 */
// @ts-nocheck


export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a command's result: `value` as JSON with `--json`, else the text `render` makes of it. */
export function printResult<T>(json: boolean, value: T, render: (value: T) => string): void {
  if (json) printJson(value);
  else printLine(render(value));
}

export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}
