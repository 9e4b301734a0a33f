/**
 * Keeps secrets out of error messages and logs. Every secret the connector
 * sends (tokens, API keys, passwords, client secrets, OAuth2 access tokens
 * fetched at run time) is registered here, and every message that may hold a
 * URL, a header or a response body passes through `text` or `url` first.
 */
// @ts-nocheck

export const REDACTED = '****';

export class Redactor {
  private readonly secrets = new Set<string>();
  private readonly queryNames = new Set<string>();

  /** Registers a secret value, in the forms it may appear in (raw, URL-encoded, form-encoded). */
  public addSecret(value: string | undefined): void {
    if (!value) return;
    this.secrets.add(value);
    this.secrets.add(encodeURIComponent(value));
    this.secrets.add(new URLSearchParams({ v: value }).toString().slice(2));
  }

  /** Registers a query parameter whose value is always secret (an API key in the URL). */
  public addSecretQueryParam(name: string): void {
    this.queryNames.add(name);
  }

  /** Replaces every registered secret in free text. */
  public text(value: string): string {
    let out = value;
    // Longest first, so a secret that contains another is replaced whole.
    const secrets = [...this.secrets].sort((a, b) => b.length - a.length);
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** A URL fit to print: no user info, secret query parameters masked, secrets replaced. */
  public url(value: URL | string): string {
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      return this.text(String(value));
    }
    if (url.username) url.username = REDACTED;
    if (url.password) url.password = REDACTED;
    for (const name of this.queryNames) {
      if (url.searchParams.has(name)) url.searchParams.set(name, REDACTED);
    }
    return this.text(url.href);
  }
}
