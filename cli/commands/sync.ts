/**
 * `sluice sync <source>`: runs the source's sync in slices until it is done,
 * continuing the source's unfinished run first if it has one. Progress goes
 * to stderr: one line updated in place on a terminal, plain lines otherwise.
 * Ctrl-C stops the slice in flight; finished slices stay published and the
 * next `sluice sync` continues the run.
 */
import { NotFoundError, SluiceError } from '../../engine/errors.js';
import type { RunRecord } from '../../engine/ports.js';
import { resolveSource } from '../../engine/sources.js';
import { checkStreamSelection, streamNames } from '../../engine/stream-selection.js';
import { type RunCheckpoint, RunInterruptedError, runSync, type SyncProgress } from '../../engine/sync.js';
import type { CliContext } from '../context.js';
import { formatBytes, formatCount, formatEstimate } from '../format.js';

export interface SyncCommandOptions {
  readonly streams?: readonly string[];
  /** Seconds to wait for a concurrent run of the same source. */
  readonly waitSeconds?: number;
  readonly quiet?: boolean;
  /** End each slice after this many seconds of reading. */
  readonly sliceSeconds?: number;
  /** End each slice after this many rows (at the next point the stream may stop). */
  readonly sliceRows?: number;
}

/** Progress across slices: rows and bytes of this run, rows/s of this invocation. */
export class ProgressView {
  private readonly streams = new Map<string, { rows: number; bytes: number }>();
  /** Rows landed by this invocation, per slice and stream. */
  private readonly landedHere = new Map<string, number>();
  private readonly started = Date.now();
  private slice = 0;
  private live = false;

  public constructor(
    private readonly out: Pick<NodeJS.WriteStream, 'write'>,
    private readonly tty: boolean,
  ) {}

  public onProgress(progress: SyncProgress): void {
    this.slice = progress.slice;
    this.streams.set(progress.stream, { rows: progress.rows, bytes: progress.bytes });
    this.landedHere.set(`${progress.slice}:${progress.stream}`, progress.sliceRows);
    const totals = this.totals();
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    let here = 0;
    let streamHere = 0;
    for (const [key, rows] of this.landedHere) {
      here += rows;
      if (key.endsWith(`:${progress.stream}`)) streamHere += rows;
    }
    const rate = Math.round(here / seconds);
    // % and ETA of the stream in flight, where its connector reported a total.
    const estimate = progress.done
      ? ''
      : formatEstimate(progress.rows, progress.totalRows, streamHere / seconds);
    const line = `slice ${this.slice} · ${progress.stream} · ${formatCount(totals.rows)} rows · ${formatBytes(totals.bytes)} · ${formatCount(rate)} rows/s${estimate}`;
    if (this.tty) {
      this.out.write(`\r\x1b[K${line}`);
      this.live = true;
    } else {
      this.out.write(`  ${line}${progress.done ? ` · ${progress.stream} done` : ''}\n`);
    }
  }

  public note(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  public clear(): void {
    if (this.live) this.out.write('\r\x1b[K');
    this.live = false;
  }

  private totals(): { rows: number; bytes: number } {
    let rows = 0;
    let bytes = 0;
    for (const s of this.streams.values()) {
      rows += s.rows;
      bytes += s.bytes;
    }
    return { rows, bytes };
  }
}

/** Syncs one stored source in slices, printing progress to stderr; returns the run record. */
export async function syncSource(
  ctx: CliContext,
  name: string,
  options: SyncCommandOptions = {},
): Promise<RunRecord> {
  const source = await ctx.state.getSource(name);
  if (!source) {
    const known = (await ctx.state.listSources()).map((s) => s.name);
    throw new NotFoundError(
      `source "${name}" does not exist${known.length > 0 ? ` (sources: ${known.join(', ')})` : '; add one with `sluice sources add --file <json>`'}`,
    );
  }
  const { connector, config, piiSalt } = await resolveSource(source, ctx);
  // A mistyped --stream is refused here, before a run is recorded FAILED for it.
  if (options.streams && options.streams.length > 0) {
    checkStreamSelection(source.name, options.streams, await streamNames(connector, config), {
      text: '--stream',
      field: 'stream',
    });
  }
  const view = options.quiet ? undefined : new ProgressView(process.stderr, process.stderr.isTTY === true);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const onSlice = (checkpoint: RunCheckpoint): void => {
    if (checkpoint.continued) {
      // Said even when quiet: the user should know this sync finishes an earlier one.
      process.stderr.write(
        `continuing run ${checkpoint.runId} from slice ${checkpoint.slice + 1} (${checkpoint.slice} already published)\n`,
      );
      const asked = options.streams ?? [];
      if (asked.length > 0) {
        const flags = asked.map((s) => `--stream ${s}`).join(' ');
        process.stderr.write(
          `${flags} not applied: the unfinished run ${checkpoint.runId} keeps its streams ` +
            `(${(checkpoint.streams ?? []).join(', ')}) and is finished first; ` +
            `run \`sluice sync ${name} ${flags}\` again afterwards\n`,
        );
      }
    } else if (checkpoint.slice > 0) {
      view?.note(`slice ${checkpoint.slice} published${checkpoint.done ? '; all streams done' : ''}`);
    }
  };
  try {
    return await runSync(
      { objects: ctx.objects, state: ctx.state, catalog: ctx.catalog, logger: ctx.logger },
      {
        source,
        connector,
        config,
        ...(piiSalt === undefined ? {} : { piiSalt }),
        ...(options.streams && options.streams.length > 0 ? { streams: options.streams } : {}),
        ...(options.sliceSeconds === undefined ? {} : { sliceSeconds: options.sliceSeconds }),
        ...(options.sliceRows === undefined ? {} : { sliceRows: options.sliceRows }),
        leaseWaitMs: (options.waitSeconds ?? 0) * 1000,
        signal: controller.signal,
        onSlice,
        ...(view ? { onProgress: (p: SyncProgress) => view.onProgress(p) } : {}),
      },
    );
  } catch (error) {
    if (error instanceof RunInterruptedError) {
      const { runId, slice } = error.checkpoint;
      const kept =
        slice === 0
          ? 'had published no slice yet'
          : `keeps the ${slice} ${slice === 1 ? 'slice' : 'slices'} it published`;
      throw new SluiceError(`interrupted: run ${runId} ${kept}; \`sluice sync ${name}\` continues it`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    view?.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
