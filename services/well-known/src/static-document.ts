import { createHash } from 'node:crypto';

/** A JSON document serialised once, with its strong validator. */
export interface StaticDocument {
  /** The exact bytes sent, as a string. */
  readonly body: string;
  /** Strong ETag (quoted), derived from the body so it changes exactly when the body does. */
  readonly etag: string;
}

/** Serialises `value` once and derives its ETag from a SHA-256 of the body. */
export function staticDocument(value: unknown): StaticDocument {
  const body = JSON.stringify(value);
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return Object.freeze({ body, etag: `"${hash}"` });
}

/**
 * True when an `If-None-Match` header matches `etag`. Uses the weak comparison RFC 9110 §13.1.2
 * prescribes for this header (so `W/"x"` matches `"x"`), and accepts `*` and lists.
 */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
