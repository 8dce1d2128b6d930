import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ObserveRequest } from '@rtc-sidecars/http-kit';
import { ifNoneMatch, type StaticDocument } from './static-document.ts';
import { JSON_TYPE } from './well-known-routes.ts';

/** A document to answer before Fastify, at an exact path. */
export interface PrerenderedDocument {
  readonly path: string;
  readonly document: StaticDocument;
}

/** Answers a raw request and returns true, or returns false to let Fastify handle it. */
export type RawResponder = (req: IncomingMessage, res: ServerResponse) => boolean;

interface Rendered {
  readonly path: string;
  readonly body: Buffer;
  readonly ok: Readonly<Record<string, string>>;
  readonly notModified: Readonly<Record<string, string>>;
  readonly etag: string;
}

/**
 * The hot path: `GET`/`HEAD` of a configured well-known document, answered from bytes and
 * headers rendered at start-up, without building Fastify's request and reply objects. This is
 * what a static nginx `return 200 '…'` does, and it roughly halves the CPU cost per request.
 *
 * It answers exactly as the Fastify routes of `well-known-routes.ts` do (same status, headers
 * and body; `test/prerendered-responder.test.ts` compares them), so those routes remain the
 * reference and serve `app.inject()`. Everything else (other methods, unconfigured documents,
 * OPTIONS preflight) returns false and goes through Fastify. Successful answers are not logged,
 * as on the Fastify routes, and are recorded in the same request metrics.
 */
export function prerenderedResponder(
  documents: readonly PrerenderedDocument[],
  cacheMaxAge: number,
  observe: ObserveRequest,
): RawResponder {
  const table = new Map<string, Rendered>();
  for (const { path, document } of documents) {
    const body = Buffer.from(document.body, 'utf8');
    const common = {
      'access-control-allow-origin': '*',
      'cache-control': `public, max-age=${cacheMaxAge}`,
      etag: document.etag,
    };
    table.set(path, {
      path,
      body,
      etag: document.etag,
      ok: { ...common, 'content-type': JSON_TYPE, 'content-length': String(body.length) },
      notModified: common,
    });
  }
  return (req, res) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const doc = table.get(query === -1 ? url : url.slice(0, query));
    if (doc === undefined) return false;
    const started = process.hrtime.bigint();
    let status = 200;
    if (ifNoneMatch(req.headers['if-none-match'], doc.etag)) {
      status = 304;
      res.writeHead(304, doc.notModified).end();
    } else {
      res.writeHead(200, doc.ok).end(method === 'HEAD' ? undefined : doc.body);
    }
    observe(method, doc.path, status, Number(process.hrtime.bigint() - started) / 1e9);
    return true;
  };
}
