// @ts-nocheck
import type { Logger } from './types.js';

/** A logger that drops everything: for tests and for `check` calls. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
