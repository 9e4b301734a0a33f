/**
 * JSON.parse that keeps integers beyond 2^53 exact.
 *
 * JSON.parse reads every number as a double, so an id such as
 * 1234567890123456789 (Twitter/Snowflake-style ids, 64-bit keys) silently
 * becomes 1234567890123456800, and two records can end up with one key.
 * Such a literal has at least 16 digits, so a text without a run of 16
 * digits takes JSON.parse as is: the common case, which pays a scan of every
 * 16th character. Otherwise each integer literal outside the int53 range and
 * inside int64 is read as a `bigint` (the engine lands it as BIGINT); one
 * beyond int64 stays a double, as any JSON reader gives it.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function parseJsonExact(text: string): unknown {
  if (!hasLongDigitRun(text)) return JSON.parse(text);
  // A marker no text holds by chance: private-use character plus a per-call nonce.
  const marker = `\uE000${Math.random().toString(36).slice(2)}:`;
  const marked = markLongIntegers(text, marker);
  return marked === undefined ? JSON.parse(text) : restore(JSON.parse(marked), marker);
}

/**
 * The text with each integer literal beyond int53 and within int64 turned
 * into a marked string, or undefined when it holds none. A scan: strings are
 * skipped with indexOf as JSON's lexer bounds them (no regex, whose
 * backtracking overflows the stack on a string of millions of escapes),
 * numbers are read whole (fraction and exponent included, so their digits
 * are never taken for an integer). A string is valid JSON wherever a number
 * is, except as an object key: an integer before a colon, and one with
 * leading zeros, stay as they are, so a text JSON.parse refuses is refused
 * marked too.
 */
function markLongIntegers(text: string, marker: string): string | undefined {
  const parts: string[] = [];
  let copied = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const code = text.charCodeAt(i);
    if (code === 34) {
      i = endOfString(text, i);
      continue;
    }
    if (code !== 45 && !isDigit(code)) {
      i++;
      continue;
    }
    let end = code === 45 ? i + 1 : i;
    while (end < n && isDigit(text.charCodeAt(end))) end++;
    const next = text.charCodeAt(end);
    const integer = next !== 46 && next !== 101 && next !== 69;
    if (
      integer &&
      end - i >= 16 &&
      isInt64BeyondInt53(text.slice(i, end)) &&
      !isKeyOrMalformed(text, i, end)
    ) {
      parts.push(text.slice(copied, i), `"${marker}${text.slice(i, end)}"`);
      copied = end;
    }
    while (end < n && isNumberChar(text.charCodeAt(end))) end++;
    i = end;
  }
  if (parts.length === 0) return undefined;
  parts.push(text.slice(copied));
  return parts.join('');
}

/** The index after the string that opens at `start` (a quote not preceded by an odd run of backslashes). */
function endOfString(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** An integer literal JSON refuses where it stands: with leading zeros, or as an object key. */
function isKeyOrMalformed(text: string, start: number, end: number): boolean {
  const digits = text.charCodeAt(start) === 45 ? start + 1 : start;
  if (text.charCodeAt(digits) === 48) return true;
  let next = end;
  while (next < text.length && /\s/.test(text[next]!)) next++;
  return text.charCodeAt(next) === 58;
}

function isInt64BeyondInt53(literal: string): boolean {
  if (Number.isSafeInteger(Number(literal))) return false;
  const exact = BigInt(literal);
  return exact >= INT64_MIN && exact <= INT64_MAX;
}

/** Digits, sign, point and exponent: the rest of a number token. */
function isNumberChar(code: number): boolean {
  return isDigit(code) || code === 43 || code === 45 || code === 46 || code === 101 || code === 69;
}

/** True when the text holds 16 or more digits in a row. Any such run covers an index ≡ 15 (mod 16). */
function hasLongDigitRun(text: string): boolean {
  const n = text.length;
  for (let i = 15; i < n; i += 16) {
    if (!isDigit(text.charCodeAt(i))) continue;
    // Such a run reaches 8 back or 8 on from i: most digits (dates, amounts) are done here.
    if (!isDigit(text.charCodeAt(i - 8)) && !isDigit(text.charCodeAt(i + 8))) continue;
    let start = i;
    let end = i;
    while (start > 0 && isDigit(text.charCodeAt(start - 1))) start--;
    while (end + 1 < n && isDigit(text.charCodeAt(end + 1))) end++;
    if (end - start + 1 >= 16) return true;
    // Runs after this one start past `end`; every 16 characters from there still meet each of them.
    i = end;
  }
  return false;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Puts the marked integers back as bigints. With a stack, not recursion: a
 * valid text may nest deeper than the call stack goes (JSON.parse takes it).
 */
function restore(value: unknown, marker: string): unknown {
  const exact = (v: unknown): unknown =>
    typeof v === 'string' && v.startsWith(marker) ? BigInt(v.slice(marker.length)) : v;
  const pending: object[] = [];
  const visit = (v: unknown): void => {
    if (v !== null && typeof v === 'object') pending.push(v);
  };
  visit(value);
  for (let container = pending.pop(); container !== undefined; container = pending.pop()) {
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        container[i] = exact(container[i]);
        visit(container[i]);
      }
      continue;
    }
    const object = container as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      const before = object[key];
      const after = exact(before);
      // Defined, not assigned: a "__proto__" key is a field here, as JSON.parse made it.
      if (after !== before)
        Object.defineProperty(object, key, {
          value: after,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      visit(after);
    }
  }
  return exact(value);
}

/**
 * JSON.stringify that writes bigints as JSON integers, digit for digit (the
 * inverse of parseJsonExact; JSON.stringify throws on a bigint). A value
 * without bigints takes JSON.stringify as is.
 */
export function stringifyExact(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const marker = `\uE000${Math.random().toString(36).slice(2)}:`;
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v));
  return text.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}
