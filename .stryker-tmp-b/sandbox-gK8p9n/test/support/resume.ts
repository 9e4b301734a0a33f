/**
 * Reads a stream the way a sliced run does: up to its k-th checkpoint, stop,
 * then again with `resumeFrom` = that checkpoint's position, and so on until
 * the stream ends. The records of all pieces, in order, must equal one
 * uninterrupted read record for record.
 */
// @ts-nocheck

import { silentLogger } from '../../connectors/sdk/logger.js';
import {
  type CursorValue,
  isCheckpoint,
  type SourceRecord,
  type Stream,
  type StreamPosition,
} from '../../connectors/sdk/types.js';

export interface Piece {
  readonly records: SourceRecord[];
  /** Positions of the checkpoints this piece saw, in order. */
  readonly positions: StreamPosition[];
  /** Where the piece stopped (its last checkpoint), or undefined when the stream ended. */
  readonly stoppedAt: StreamPosition | undefined;
}

export interface ReadPieceOptions {
  readonly since?: CursorValue;
  readonly committedCursor?: CursorValue;
  readonly resumeFrom?: StreamPosition;
  /** Stop at this checkpoint (1-based); read to the end when absent. */
  readonly stopAtCheckpoint?: number;
}

/** One slice: the records up to the `stopAtCheckpoint`-th checkpoint (records after it are dropped, as a slice does). */
export async function readPiece(stream: Stream, options: ReadPieceOptions = {}): Promise<Piece> {
  const controller = new AbortController();
  const since = options.since ?? stream.incremental?.initialValue;
  const ctx = {
    since,
    committedCursor: options.committedCursor ?? since,
    signal: controller.signal,
    logger: silentLogger,
    ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}),
  };
  const committed: SourceRecord[] = [];
  let pending: SourceRecord[] = [];
  const positions: StreamPosition[] = [];
  for await (const item of stream.read(ctx)) {
    if (isCheckpoint(item)) {
      committed.push(...pending);
      pending = [];
      positions.push(item.position);
      // A position travels as JSON in the run checkpoint: it must survive the trip unchanged.
      const copy = JSON.parse(JSON.stringify(item.position)) as StreamPosition;
      if (options.stopAtCheckpoint !== undefined && positions.length >= options.stopAtCheckpoint) {
        return { records: committed, positions, stoppedAt: copy };
      }
      continue;
    }
    if (Array.isArray(item)) pending.push(...(item as SourceRecord[]));
    else pending.push(item as SourceRecord);
  }
  committed.push(...pending);
  return { records: committed, positions, stoppedAt: undefined };
}

/** The whole stream read in slices of `every` checkpoints each; also returns how many slices it took. */
export async function readInSlices(
  stream: Stream,
  every: number,
  options: Omit<ReadPieceOptions, 'resumeFrom' | 'stopAtCheckpoint'> = {},
): Promise<{ records: SourceRecord[]; slices: number }> {
  const records: SourceRecord[] = [];
  let resumeFrom: StreamPosition | undefined;
  for (let slices = 1; ; slices++) {
    const piece = await readPiece(stream, {
      ...options,
      ...(resumeFrom ? { resumeFrom } : {}),
      stopAtCheckpoint: every,
    });
    records.push(...piece.records);
    if (piece.stoppedAt === undefined) return { records, slices };
    resumeFrom = piece.stoppedAt;
    if (slices > 10_000) throw new Error('the stream does not end');
  }
}
