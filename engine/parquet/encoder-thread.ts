/**
 * The encoder worker thread, shared by every writer of the process. One
 * thread is enough: conversion runs on the caller's thread and encoding on
 * this one, so a sync keeps two cores busy. It is spawned on first use,
 * unref'd while no writer is open (it never holds the process alive) and
 * ended after a short idle time, which also returns its WASM memory.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CollectionHints } from './collection-hint.js';
import type { EncodedGroup, ParquetCompression, PreparedGroup } from './encoder.js';
import { encoderPlace } from './encoder-place.js';
import { ParquetError } from './errors.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

/** How long an idle thread lives; `keepEncoderWarm()` makes it Infinity. */
let idleMs = 2_000;

/**
 * Keeps the encoder thread (and its compiled WASM) alive between writers
 * instead of ending it after 2 s idle: for long-lived processes that sync
 * again soon, such as a Lambda container between invocations. The thread
 * stays unref'd while idle, so it never keeps a process alive.
 */
export function keepEncoderWarm(): void {
  idleMs = Number.POSITIVE_INFINITY;
}

/**
 * Starts the encoder now (e.g. while a Lambda container initialises): the
 * thread, or, where groups are encoded inline, parquet-wasm on this thread.
 * Resolves when it runs.
 */
export async function warmEncoder(): Promise<void> {
  if (encoderPlace() === 'inline') {
    await import('./encoder.js');
    return;
  }
  const thread = sharedThread();
  // Held like a writer while it starts (so the process waits for it), idle afterwards.
  thread.attach();
  try {
    await thread.started();
  } finally {
    thread.detach();
  }
}

/**
 * Set (by the bundler's `define`, see infra/bundling.ts) when the engine ships
 * bundled into one file: the worker is then a separate file of that name
 * beside the bundle, since a bundle has no `./worker.js` next to this module.
 */
const BUNDLED_WORKER_FILE = process.env.SLUICE_PARQUET_WORKER_FILE;

/**
 * The thread's young generation, in MB. The encoder allocates little on its
 * JS heap (messages and footer metadata; row data lives in buffers and WASM
 * memory), yet without a limit (48 MB for a worker here) its young
 * generation reached 30–32 MB of a 45–53 MB heap on 10M rows. Measured on
 * 10M rows, alternating runs: peak RSS 302–321 MB against 322–406 without a
 * limit, CPU unchanged; at 6 MB the thread's scavenges cost ~5% more CPU
 * (bench/README.md). A process started with --max-semi-space-size (as a
 * Lambda runtime may be) sizes the thread's semi-spaces by that flag instead.
 */
const YOUNG_GENERATION_MB = 16;

type Pending = { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void };

/** Starts the worker module; under tsx (sources run as .ts) the worker registers tsx first. */
function spawn(): Worker {
  const here = import.meta.url;
  const options = { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } };
  if (BUNDLED_WORKER_FILE) return new Worker(new URL(`./${BUNDLED_WORKER_FILE}`, here), options);
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), options);
  // `--import tsx` in execArgv races the worker's entry module; registering
  // tsx's ESM hooks through its API first, then importing the entry, does not.
  const tsx = pathToFileURL(
    join(dirname(createRequire(here).resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs'),
  ).href;
  const entry = new URL('./worker.ts', here).href;
  const bootstrap = `const { workerData } = require('node:worker_threads');
import(workerData.tsx)
  .then((api) => { api.register(); return import(workerData.entry); })
  .catch((error) => { console.error(error); process.exit(1); });`;
  return new Worker(bootstrap, { ...options, eval: true, workerData: { tsx, entry } });
}

class EncoderThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly ready: Promise<void>;
  private nextId = 1;
  private writers = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  public dead: Error | undefined;

  public constructor(private readonly onExit: (thread: EncoderThread) => void) {
    this.worker = spawn();
    let markReady!: () => void;
    let failStart!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') return markReady();
      const pending = this.pending.get(reply.id);
      if (pending === undefined) return;
      this.pending.delete(reply.id);
      pending.resolve(reply);
    });
    const fail = (error: Error) => {
      if (this.dead !== undefined) return;
      this.dead = error;
      failStart(error);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      this.onExit(this);
    };
    this.worker.on('error', (error) =>
      fail(new ParquetError('Parquet encoder thread failed', { cause: error })),
    );
    this.worker.on('exit', (code) => fail(new ParquetError(`Parquet encoder thread exited (code ${code})`)));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    this.worker.unref();
  }

  /** Resolves once the worker has loaded; rejects if it cannot start. */
  public started(): Promise<void> {
    return this.ready;
  }

  public get threadId(): number {
    return this.worker.threadId;
  }

  public get resourceLimits(): Worker['resourceLimits'] {
    return this.worker.resourceLimits;
  }

  public attach(): void {
    this.writers++;
    clearTimeout(this.idleTimer);
    this.worker.ref();
  }

  public detach(): void {
    this.writers--;
    if (this.writers > 0) return;
    this.worker.unref();
    if (idleMs === Number.POSITIVE_INFINITY) return;
    this.idleTimer = setTimeout(() => {
      if (this.writers > 0) return;
      // Marked dead first, so a writer created meanwhile starts a fresh thread instead of this one.
      this.dead = new ParquetError('Parquet encoder thread ended after being idle');
      void this.worker.terminate();
    }, idleMs);
    this.idleTimer.unref();
  }

  public async request(
    message: DistributiveOmit<WorkerRequest, 'id'>,
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerReply> {
    if (this.dead !== undefined) throw this.dead;
    const id = this.nextId++;
    const reply = new Promise<WorkerReply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.worker.postMessage({ ...message, id }, transfer);
    const answer = await reply;
    if (answer.type === 'error') {
      const cause = answer.cause === undefined ? undefined : new Error(answer.cause);
      const error = new ParquetError(answer.message, cause === undefined ? undefined : { cause });
      error.name = answer.name;
      throw error;
    }
    return answer;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

let shared: EncoderThread | undefined;

/** The worker's thread id while an encoder thread lives (diagnostics and tests). */
export function encoderThreadId(): number | undefined {
  return shared?.dead === undefined ? shared?.threadId : undefined;
}

/** The V8 limits the encoder thread runs with, while one lives (diagnostics and tests). */
export function encoderResourceLimits(): Worker['resourceLimits'] {
  return shared?.dead === undefined ? shared?.resourceLimits : undefined;
}

let writerIds = 0;

/** One count for every writer of the process: the old space they fill is this isolate's. */
const collectionHints = new CollectionHints();

/** Arrow IPC bytes handed to the encoder thread by this process so far (diagnostics and tests). */
export function bytesHandedToThread(): number {
  return collectionHints.total;
}

function sharedThread(): EncoderThread {
  if (shared === undefined || shared.dead !== undefined) {
    shared = new EncoderThread((thread) => {
      if (shared === thread) shared = undefined;
    });
  }
  return shared;
}

/** An encoder for one file, running on the shared encoder thread. */
export class ThreadEncoder {
  private readonly thread: EncoderThread;
  private readonly writer = ++writerIds;
  private readonly opened: Promise<unknown>;
  private released = false;

  public constructor(compression: ParquetCompression) {
    this.thread = sharedThread();
    this.thread.attach();
    this.opened = this.thread.request({ type: 'open', writer: this.writer, compression });
    this.opened.catch(() => undefined);
  }

  /** Resolves once the thread runs; rejects when no worker can be started here. */
  public async started(): Promise<void> {
    await this.thread.started();
    await this.opened;
  }

  /** Encodes on the thread; `group.ipc`'s buffer is transferred there and comes back as `spare`. */
  public async encode(group: PreparedGroup): Promise<EncodedGroup> {
    await this.opened;
    // Every so many bytes on the thread, V8 here is asked to collect (collection-hint.ts).
    const text = group.text ?? [];
    const transfer = [group.ipc.buffer as ArrayBuffer];
    let handed = group.ipc.byteLength;
    const views = [
      ...text.flatMap((t) => [t.ipc, t.ids]),
      ...(group.numbered ?? []).flatMap((n) => [n.entries.bytes, n.entries.offsets]),
    ];
    for (const view of views) {
      if (view === undefined) continue;
      transfer.push(view.buffer as ArrayBuffer);
      // The whole buffer moves, not only the view's bytes.
      handed += view.buffer.byteLength;
    }
    collectionHints.handedOver(handed);
    const reply = await this.thread.request({ type: 'encode', writer: this.writer, group }, transfer);
    const { bytes, spare } = reply as Extract<WorkerReply, { type: 'bytes' }>;
    return { bytes, spare: spare?.buffer as ArrayBuffer | undefined };
  }

  public async finish(): Promise<Uint8Array> {
    await this.opened;
    const reply = await this.thread.request({ type: 'finish', writer: this.writer });
    this.detach();
    return (reply as Extract<WorkerReply, { type: 'bytes' }>).bytes;
  }

  public async release(): Promise<void> {
    if (this.released) return;
    try {
      if (this.thread.dead === undefined) await this.thread.request({ type: 'release', writer: this.writer });
    } catch {
      // The thread is gone; nothing is held any more.
    } finally {
      this.detach();
    }
  }

  private detach(): void {
    if (this.released) return;
    this.released = true;
    this.thread.detach();
  }
}
