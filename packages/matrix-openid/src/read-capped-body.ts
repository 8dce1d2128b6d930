import { type Readable } from 'node:stream';

/** Thrown when a response body is larger than allowed. */
export class BodyTooLargeError extends Error {
  public readonly code = 'ERR_BODY_TOO_LARGE';
  public constructor(limit: number) {
    super(`response body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads at most `maxBytes` of a response body and decodes it as UTF-8. A declared or actual
 * size over the cap destroys the stream (which closes that one connection, never buffering the
 * rest) and throws {@link BodyTooLargeError}.
 */
export async function readCappedBody(
  body: Readable,
  maxBytes: number,
  contentLength: string | string[] | undefined,
): Promise<string> {
  const declared = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
  if (Number.isFinite(declared) && declared > maxBytes) {
    body.destroy();
    throw new BodyTooLargeError(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Drains and discards a body so its connection goes back to the pool. */
export async function discardBody(body: Readable, maxBytes: number): Promise<void> {
  try {
    await readCappedBody(body, maxBytes, undefined);
  } catch {
    // Too large or broken: the stream is destroyed, the connection is not reused. Nothing to add.
  }
}
