import { parseJsonExact } from '../../sdk/json.js';
import type { PhysicalLine } from './text.js';
import type { MalformedHandler, Row } from './types.js';

const BLANK = /^\s*$/;

/** JSON Lines: one JSON object per line, values as parsed; blank lines are skipped. */
export async function* jsonlRows(
  batches: AsyncIterable<PhysicalLine[]>,
  malformed: MalformedHandler,
): AsyncGenerator<Row[]> {
  for await (const lines of batches) {
    const rows: Row[] = [];
    for (const line of lines) {
      if (line.overlong) {
        malformed.line(line.number, 'the line is too long');
        continue;
      }
      if (BLANK.test(line.text)) continue;
      let value: unknown;
      try {
        value = parseJsonExact(line.text);
      } catch (error) {
        malformed.line(line.number, `invalid JSON (${(error as Error).message})`);
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        malformed.line(line.number, 'the line is not a JSON object');
        continue;
      }
      rows.push({ values: value as Record<string, unknown>, line: line.number });
    }
    if (rows.length > 0) yield rows;
  }
}
