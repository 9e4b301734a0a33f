/**
 * Stream selections are checked against what the connector declares, so a
 * typo in `streams` fails when the source is registered or checked, not at
 * its first scheduled sync.
 */
import type { Connector } from '../connectors/sdk/types.js';
import { ValidationError } from './errors.js';

/** The names of the streams a connector declares for this (validated, secret-resolved) config. */
export async function streamNames(connector: Connector<never>, config: unknown): Promise<string[]> {
  const streams = await connector.streams(config as never);
  return streams.map((s) => s.name);
}

/**
 * Throws naming the first selected stream that does not exist, with the ones
 * that do; `label` names where the selection came from (a definition's
 * `"streams"`, or `--stream`).
 */
export function checkStreamSelection(
  source: string,
  selected: readonly string[] | undefined,
  available: readonly string[],
  label: { readonly text: string; readonly field: string } = { text: '"streams"', field: 'streams' },
): void {
  for (const name of selected ?? []) {
    if (!available.includes(name)) {
      throw new ValidationError(
        `${label.text}: source "${source}" has no stream "${name}"; available: ${available.join(', ') || 'none'}`,
        { field: label.field },
      );
    }
  }
}
