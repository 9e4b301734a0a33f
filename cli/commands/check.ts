/** `sluice check <source>`: the connection works and the selected streams exist. */
import { SluiceError } from '../../engine/errors.js';
import { resolveSource } from '../../engine/sources.js';
import { checkStreamSelection, streamNames } from '../../engine/stream-selection.js';
import type { CliContext } from '../context.js';
import { printResult, warn } from '../output.js';
import { sourceOrFail } from './sources.js';

export class CheckFailedError extends SluiceError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CheckFailedError';
  }
}

export async function checkSource(ctx: CliContext, name: string, json: boolean): Promise<void> {
  const source = await sourceOrFail(ctx, name);
  const { connector, config } = await resolveSource(source, ctx);
  const result = await connector.check(config as never);
  if (!result.ok) throw new CheckFailedError(`check of "${name}" failed: ${result.message}`);
  const streams = await streamNames(connector, config);
  checkStreamSelection(name, source.streams, streams);
  const warnings = result.warnings ?? [];
  if (!json) for (const warning of warnings) warn(warning);
  const selected = source.streams && source.streams.length > 0 ? [...source.streams] : streams;
  printResult(
    json,
    { source: name, ok: true, streams: selected, available: streams, warnings },
    (r) => `source "${name}" is reachable; streams: ${r.streams.join(', ') || 'none'}`,
  );
}
