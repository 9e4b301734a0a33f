/** `sluice reset <source> [stream]`: backfill from the initial cursor. */
// @ts-nocheck

import { resetCursors } from '../../engine/reset.js';
import { resolveSource } from '../../engine/sources.js';
import type { CliContext } from '../context.js';
import { printResult } from '../output.js';
import { sourceOrFail } from './sources.js';

export async function resetSource(
  ctx: CliContext,
  name: string,
  stream: string | undefined,
  json: boolean,
): Promise<void> {
  const source = await sourceOrFail(ctx, name);
  const { connector, config } = await resolveSource(source, ctx);
  const streams = await connector.streams(config as never);
  const reset = await resetCursors(ctx, name, streams, stream ? [stream] : undefined);
  printResult(json, { source: name, reset }, (r) =>
    r.reset.length === 0
      ? 'nothing to reset: no committed cursor yet'
      : `reset ${r.reset.join(', ')}; the next sync of "${name}" reads from the initial cursor`,
  );
}
