/** Messages between writers on the main thread and the encoder worker. */
import type { ParquetCompression, PreparedGroup } from './encoder.js';

export type WorkerRequest =
  | {
      readonly type: 'open';
      readonly id: number;
      readonly writer: number;
      readonly compression: ParquetCompression;
    }
  | { readonly type: 'encode'; readonly id: number; readonly writer: number; readonly group: PreparedGroup }
  | { readonly type: 'finish'; readonly id: number; readonly writer: number }
  | { readonly type: 'release'; readonly id: number; readonly writer: number };

export type WorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'ok'; readonly id: number }
  | {
      readonly type: 'bytes';
      readonly id: number;
      readonly bytes: Uint8Array;
      /** The request's IPC buffer, handed back for the next group instead of left to the worker's GC. */
      readonly spare?: Uint8Array;
    }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly name: string;
      readonly message: string;
      readonly cause: string | undefined;
    };
