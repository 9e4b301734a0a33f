// @ts-nocheck
import { ConfigError } from '../sdk/errors.js';

/**
 * A small, dependency-free glob matcher for object keys (relative to the
 * source's prefix). Node's `path.matchesGlob` is experimental on Node 20 and
 * absent before 20.17, and its semantics follow the host OS, so keys get
 * their own, documented rules:
 *
 * - `*` matches any characters except `/` (within one path segment);
 * - `?` matches one character except `/`;
 * - `**` as a whole segment matches zero or more segments (`a/**\/b` matches
 *   `a/b` and `a/x/y/b`; a trailing `/**` matches everything below);
 * - `[abc]`, `[a-z]`, `[!a]` / `[^a]` match one character of a class (never `/`);
 * - `{csv,tsv}` matches one of the alternatives (which may hold wildcards);
 * - `\` escapes the next character.
 *
 * Unlike a shell, `*` also matches names that start with a dot.
 */
export interface Glob {
  readonly pattern: string;
  /** The literal leading folders of the pattern (`orders/2026/` for `orders/2026/*.csv`): listed instead of everything. */
  readonly literalPrefix: string;
  matches(relativeKey: string): boolean;
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

function escapeRegex(text: string): string {
  return text.replace(REGEX_SPECIAL, '\\$&');
}

export function compileGlob(pattern: string): Glob {
  if (pattern.length === 0) throw new ConfigError('glob must not be empty');
  if (pattern.startsWith('/')) {
    throw new ConfigError(`glob "${pattern}" must be relative to the prefix (no leading "/")`);
  }
  const regex = new RegExp(`^${toRegexSource(pattern)}$`, 's');
  return {
    pattern,
    literalPrefix: literalPrefixOf(pattern),
    matches: (relativeKey) => regex.test(relativeKey),
  };
}

function toRegexSource(pattern: string): string {
  let out = '';
  let braceDepth = 0;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new ConfigError(`glob "${pattern}" ends with a lone "\\"`);
      out += escapeRegex(next);
      i += 2;
      continue;
    }
    if (c === '*') {
      let end = i;
      while (pattern[end] === '*') end++;
      const segmentStart = i === 0 || pattern[i - 1] === '/';
      const segmentEnd = end === pattern.length || pattern[end] === '/';
      if (end - i >= 2 && segmentStart && segmentEnd) {
        if (end === pattern.length) {
          // `a/**`: everything below `a/` (and, as in most globbers, `a/` itself).
          out += '.*';
          i = end;
        } else {
          // `**/`: zero or more whole segments.
          out += '(?:[^/]*/)*';
          i = end + 1;
        }
      } else {
        out += '[^/]*';
        i = end;
      }
      continue;
    }
    if (c === '?') {
      out += '[^/]';
      i++;
      continue;
    }
    if (c === '[') {
      const close = findClassEnd(pattern, i);
      if (close < 0) throw new ConfigError(`glob "${pattern}" has an unclosed "["`);
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      const escaped = body.replace(/[\\\]^]/g, '\\$&');
      out += negate ? `[^/${escaped}]` : `(?!/)[${escaped}]`;
      i = close + 1;
      continue;
    }
    if (c === '{') {
      braceDepth++;
      out += '(?:';
      i++;
      continue;
    }
    if (c === '}' && braceDepth > 0) {
      braceDepth--;
      out += ')';
      i++;
      continue;
    }
    if (c === ',' && braceDepth > 0) {
      out += '|';
      i++;
      continue;
    }
    out += escapeRegex(c);
    i++;
  }
  if (braceDepth > 0) throw new ConfigError(`glob "${pattern}" has an unclosed "{"`);
  return out;
}

/** Index of the `]` closing the class opened at `open`; a `]` right after `[`, `[!` or `[^` is literal. */
function findClassEnd(pattern: string, open: number): number {
  let j = open + 1;
  if (pattern[j] === '!' || pattern[j] === '^') j++;
  if (pattern[j] === ']') j++;
  while (j < pattern.length && pattern[j] !== ']') j++;
  return j < pattern.length && j > open + 1 ? j : -1;
}

function literalPrefixOf(pattern: string): string {
  const special = pattern.search(/[*?[{\\]/);
  const literal = special < 0 ? pattern : pattern.slice(0, special);
  const slash = literal.lastIndexOf('/');
  return slash < 0 ? '' : literal.slice(0, slash + 1);
}
