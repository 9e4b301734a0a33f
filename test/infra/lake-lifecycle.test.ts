/**
 * The lake bucket is versioned, so a delete or overwrite only makes the old
 * bytes noncurrent: every prefix Sluice writes needs a lifecycle rule that
 * expires them, cleans up the delete markers left behind and aborts
 * multipart uploads that never finished. The prefixes are taken from the
 * code that builds the keys, not listed by hand.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compactionManifestPrefix,
  pendingManifestPrefix,
  runStatePrefix,
  stagingPrefix,
  tableLocation,
} from '../../engine/layout.js';
import { lineageKey } from '../../engine/stages/lineage.js';
import { currentLocation } from '../../engine/stages/merge-plan.js';
import { LAKE_MODELS_PREFIX, modelDataKey } from '../../engine/stages/models.js';
import { ATHENA_RESULTS_PREFIX } from '../../infra/constructs/lake-storage.js';
import { SluiceDataStack } from '../../infra/stacks/data-stack.js';

interface Rule {
  readonly Id: string;
  readonly Prefix?: string;
  readonly ExpirationInDays?: number;
  readonly ExpiredObjectDeleteMarker?: boolean;
  readonly NoncurrentVersionExpiration?: { NoncurrentDays: number };
  readonly AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
}

/** A key (or key prefix) of each kind Sluice writes into the lake, from the functions that build them. */
const WRITTEN = {
  raw: tableLocation('shop', 'orders'),
  staging: stagingPrefix('shop', 'r1'),
  manifests: pendingManifestPrefix('shop'),
  compactionManifests: compactionManifestPrefix('shop'),
  runs: runStatePrefix('shop'),
  current: currentLocation('shop', 'orders'),
  models: modelDataKey('orders_by_status', 'r1'),
  lineage: lineageKey('shop__orders', 'r1'),
  publishedModels: `${LAKE_MODELS_PREFIX}orders_by_status.sql`,
  athena: `${ATHENA_RESULTS_PREFIX}query.csv`,
};

describe('lake lifecycle', () => {
  let rules: Rule[];
  beforeAll(() => {
    const app = new App();
    const template = Template.fromStack(new SluiceDataStack(app, 'Data', { stageName: 'test' }));
    const versioned = Object.values(
      template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: {} } }),
    ) as { Properties: { LifecycleConfiguration: { Rules: Rule[] } } }[];
    expect(versioned).toHaveLength(1);
    rules = versioned[0]!.Properties.LifecycleConfiguration.Rules;
  });

  /** The rules that apply to `key` (no prefix: every key). */
  const rulesOf = (key: string) => rules.filter((r) => key.startsWith(r.Prefix ?? ''));

  it('expires noncurrent versions, delete markers and unfinished uploads under every prefix Sluice writes', () => {
    for (const [kind, key] of Object.entries(WRITTEN)) {
      const applying = rulesOf(key);
      // One rule per key: no window depends on how S3 resolves overlapping rules.
      expect(applying, `${kind} (${key})`).toHaveLength(1);
      const [rule] = applying as [Rule];
      expect(rule.NoncurrentVersionExpiration?.NoncurrentDays, `${kind}: noncurrent`).toBeGreaterThan(0);
      expect(rule.AbortIncompleteMultipartUpload, `${kind}: uploads`).toEqual({ DaysAfterInitiation: 1 });
      // Expiring current versions by age removes expired delete markers too; otherwise the rule must say so.
      expect(
        rule.ExpiredObjectDeleteMarker === true || rule.ExpirationInDays !== undefined,
        `${kind}: delete markers`,
      ).toBe(true);
    }
  });

  it('names each rule once', () => {
    const ids = rules.map((r) => r.Id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps landed data and its commit records restorable for 30 days, and moved or disposable copies one day', () => {
    const days = (key: string) => rulesOf(key)[0]?.NoncurrentVersionExpiration?.NoncurrentDays;
    expect(days(WRITTEN.raw)).toBe(30);
    expect(days(WRITTEN.manifests)).toBe(30);
    expect(days(WRITTEN.staging)).toBe(1);
    expect(days(WRITTEN.athena)).toBe(1);
    for (const derived of [WRITTEN.current, WRITTEN.models, WRITTEN.lineage, WRITTEN.runs]) {
      expect(days(derived), derived).toBe(30);
    }
  });
});
