// @ts-nocheck
import { describe, expect, it } from 'vitest';
import {
  compactedFileKey,
  partitionVersion,
  planCompaction,
  versionOfLocation,
} from '../../../engine/compaction.js';
import { ValidationError } from '../../../engine/errors.js';

const file = (n: number, size: number) => ({
  key: `raw/hooks/clicks/dt=2026-11-27/v00002/run${String(n).padStart(3, '0')}-00000.parquet`,
  size,
});

describe('planCompaction', () => {
  it('groups small files in key order so each group stays within the target', () => {
    // Prepare
    const files = [file(3, 40), file(1, 40), file(2, 40), file(4, 40), file(5, 40)];

    // Act
    const plan = planCompaction(2, files, { targetFileBytes: 100, smallFileBytes: 50, minFiles: 2 });

    // Assess
    expect(plan).toEqual({
      from: 2,
      to: 3,
      groups: [[file(1, 0).key, file(2, 0).key], [file(3, 0).key, file(4, 0).key], [file(5, 0).key]],
      kept: [],
    });
  });

  it('keeps big files out of the groups and ignores what is not Parquet', () => {
    // Act
    const plan = planCompaction(
      0,
      [
        file(1, 10),
        file(2, 500),
        file(3, 10),
        { key: 'raw/hooks/clicks/dt=2026-11-27/v00000/x.json', size: 1 },
      ],
      { targetFileBytes: 1000, minFiles: 2 },
    );

    // Assess
    expect(plan?.groups).toEqual([[file(1, 0).key, file(3, 0).key]]);
    expect(plan?.kept).toEqual([file(2, 0).key]);
  });

  it('plans nothing when there are fewer small files than minFiles', () => {
    // Act
    const plan = planCompaction(0, [file(1, 10), file(2, 10), file(3, 10)], { targetFileBytes: 1000 });

    // Assess
    expect(plan).toBeUndefined();
  });

  it('rejects a small-file size above the target, naming it', () => {
    // Act
    const act = () => planCompaction(0, [], { targetFileBytes: 10, smallFileBytes: 20 });

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(/smallFileBytes 20/);
  });
});

describe('partition versions', () => {
  it('names version directories without "=" and reads them back', () => {
    // Act
    const dir = partitionVersion('dt=2026-11-27', 3);

    // Assess
    expect(dir).toBe('dt=2026-11-27/v00003');
    expect(dir.split('/')[1]).not.toContain('=');
    expect(versionOfLocation(`s3://lake/raw/hooks/clicks/${dir}/`)).toBe(3);
    expect(versionOfLocation('s3://lake/raw/hooks/clicks/dt=2026-11-27/')).toBeUndefined();
  });

  it('rejects a partition that is not a day', () => {
    expect(() => partitionVersion('dt=today', 1)).toThrow(/dt=today/);
  });

  it('derives the same output keys for the same plan', () => {
    // Prepare
    const plan = planCompaction(2, [file(1, 1), file(2, 1)], { targetFileBytes: 100, minFiles: 2 });

    // Act
    const key = plan && compactedFileKey('raw/hooks/clicks', 'dt=2026-11-27', plan, 0);

    // Assess
    expect(key).toBe('raw/hooks/clicks/dt=2026-11-27/v00003/compact-v00003-00000.parquet');
  });
});
