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

/** Every string token (skipped) and every number token of a JSON text. */
const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

export function parseJsonExact(text: string): unknown {
  if (!hasLongDigitRun(text)) return JSON.parse(text);
  // A marker no text holds by chance: private-use character plus a per-call nonce.
  const marker = `\uE000${Math.random().toString(36).slice(2)}:`;
  let found = false;
  const marked = text.replace(TOKENS, (token) => {
    if (token.charCodeAt(0) === 34 || token.length < 16 || /[.eE]/.test(token)) return token;
    const exact = BigInt(token);
    if (Number.isSafeInteger(Number(token)) || exact < INT64_MIN || exact > INT64_MAX) return token;
    found = true;
    return `"${marker}${token}"`;
  });
  const value: unknown = JSON.parse(marked);
  return found ? restore(value, marker) : value;
}

/** True when the text holds 16 or more digits in a row. Any such run covers an index ≡ 15 (mod 16). */
function hasLongDigitRun(text: string): boolean {
  const n = text.length;
  for (let i = 15; i < n; i += 16) {
    if (!isDigit(text.charCodeAt(i))) continue;
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

/** Puts the marked integers back as bigints. */
function restore(value: unknown, marker: string): unknown {
  if (typeof value === 'string') return value.startsWith(marker) ? BigInt(value.slice(marker.length)) : value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = restore(value[i], marker);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      const before = object[key];
      const after = restore(before, marker);
      // Defined, not assigned: a "__proto__" key is a field here, as JSON.parse made it.
      if (after !== before)
        Object.defineProperty(object, key, {
          value: after,
          writable: true,
          enumerable: true,
          configurable: true,
        });
    }
  }
  return value;
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
