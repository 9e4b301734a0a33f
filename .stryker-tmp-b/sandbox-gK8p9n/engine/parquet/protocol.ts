/** Messages between writers on the main thread and the encoder worker. */
// @ts-nocheck

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
  | { readonly type: 'bytes'; readonly id: number; readonly bytes: Uint8Array }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly name: string;
      readonly message: string;
      readonly cause: string | undefined;
    };
