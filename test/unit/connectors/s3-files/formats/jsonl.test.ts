import { describe, expect, it } from 'vitest';
import { jsonlRows } from '../../../../../connectors/s3-files/formats/jsonl.js';
import type { PhysicalLine } from '../../../../../connectors/s3-files/formats/text.js';

async function* batchOf(texts: readonly string[]): AsyncGenerator<PhysicalLine[]> {
  yield texts.map((text, i) => ({ text, eol: '\n', number: i + 1, overlong: false }));
}

describe('JSON Lines rows', () => {
  it('reads 64-bit integers exactly, where JSON.parse would give two ids one value', async () => {
    // Prepare
    const lines = ['{"id": 1234567890123456789, "n": 1}', '{"id": 1234567890123456790, "n": 2}', ''];
    const problems: string[] = [];

    // Act
    const rows = [];
    for await (const batch of jsonlRows(batchOf(lines), {
      line: (line, reason) => problems.push(`${line}: ${reason}`),
      file: (_line, reason) => problems.push(reason),
    }))
      rows.push(...batch);

    // Assess
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.values)).toEqual([
      { id: 1234567890123456789n, n: 1 },
      { id: 1234567890123456790n, n: 2 },
    ]);
  });
});
