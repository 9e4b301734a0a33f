/**
 * Encoder worker: holds one GroupEncoder per open writer and answers its
 * requests in order. Requests and replies carry buffers by transfer.
 */
// @ts-nocheck

import { parentPort } from 'node:worker_threads';
import { GroupEncoder } from './encoder.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('engine/parquet/worker must run in a worker thread');
const encoders = new Map<number, GroupEncoder>();

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

port.on('message', (request: WorkerRequest) => {
  try {
    switch (request.type) {
      case 'open':
        encoders.set(request.writer, new GroupEncoder(request.compression));
        reply({ type: 'ok', id: request.id });
        return;
      case 'encode': {
        const bytes = encoderOf(request.writer).encode(request.group);
        reply({ type: 'bytes', id: request.id, bytes }, [bytes.buffer as ArrayBuffer]);
        return;
      }
      case 'finish': {
        const bytes = encoderOf(request.writer).finish();
        encoders.delete(request.writer);
        reply({ type: 'bytes', id: request.id, bytes }, [bytes.buffer as ArrayBuffer]);
        return;
      }
      case 'release':
        encoders.delete(request.writer);
        reply({ type: 'ok', id: request.id });
        return;
    }
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const cause = e.cause instanceof Error ? `${e.cause.name}: ${e.cause.message}` : undefined;
    reply({ type: 'error', id: request.id, name: e.name, message: e.message, cause });
    // A WebAssembly trap (a RuntimeError, e.g. a Rust panic) can leave the module unusable: start afresh.
    if (e.name === 'RuntimeError' || (e.cause instanceof Error && e.cause.name === 'RuntimeError'))
      process.exit(1);
  }
});

function encoderOf(writer: number): GroupEncoder {
  const encoder = encoders.get(writer);
  if (encoder === undefined) throw new Error(`No open Parquet writer ${writer} in the encoder worker`);
  return encoder;
}

reply({ type: 'ready' });
