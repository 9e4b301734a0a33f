/**
 * The stages Lambda: runs one stage of engine/stages.ts's list for one run.
 * Thin: validate the event, find the run, do the stage's check.
 */
// @ts-nocheck

import type { Context } from 'aws-lambda';
import { NotFoundError, SluiceError, ValidationError } from '../../engine/errors.js';
import { StageName, SYNC_STAGES } from '../../engine/stages.js';
import { backend } from '../shared/backend.js';
import { wrap } from '../shared/middleware.js';
import { logger } from '../shared/powertools.js';

export interface StageEvent {
  readonly stage: string;
  readonly source: string;
  readonly runId: string;
}

export class StageFailedError extends SluiceError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StageFailedError';
  }
}

export function parseStageEvent(event: unknown): StageEvent {
  const body = (event ?? {}) as Record<string, unknown>;
  for (const field of ['stage', 'source', 'runId'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') {
      throw new ValidationError(`the stage event needs "${field}" (a string)`, { field });
    }
  }
  const stage = body.stage as string;
  if (!SYNC_STAGES.some((s) => s.name === stage)) {
    throw new ValidationError(
      `"stage" ${JSON.stringify(stage)} is not a stage (known: ${SYNC_STAGES.map((s) => s.name).join(', ')})`,
      { field: 'stage' },
    );
  }
  return { stage, source: body.source as string, runId: body.runId as string };
}

async function runStage(event: unknown, _context: Context): Promise<{ stage: string; checked: number }> {
  const { stage, source, runId } = parseStageEvent(event);
  logger.appendKeys({ source, runId, stage });
  const aws = backend();
  const run = await aws.state.getRun(source, runId);
  if (!run) throw new NotFoundError(`run ${runId} of source "${source}" does not exist`);
  switch (stage) {
    case StageName.catalog: {
      const landed = Object.entries(run.streams)
        .filter(([, s]) => s.files > 0)
        .map(([name]) => name);
      const missing: string[] = [];
      for (const stream of landed) if (!(await aws.catalog.getTable(source, stream))) missing.push(stream);
      if (missing.length > 0) {
        throw new StageFailedError(
          `run ${runId} landed streams with no catalog table: ${missing.join(', ')}`,
        );
      }
      return { stage, checked: landed.length };
    }
    default:
      throw new ValidationError(`stage ${stage} has no implementation`, { field: 'stage' });
  }
}

export const handler = wrap(runStage);
