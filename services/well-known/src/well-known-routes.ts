import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import type { Documents } from './documents.ts';
import { errors } from './errors.ts';
import {
  ClientDocumentSchema,
  MatrixErrorSchema,
  NotModifiedSchema,
  ServerDocumentSchema,
  SupportDocumentSchema,
} from './schemas.ts';
import { ifNoneMatch, type StaticDocument, staticDocument } from './static-document.ts';

/** Where each document is served. */
export const DOCUMENT_PATHS = {
  client: '/.well-known/matrix/client',
  server: '/.well-known/matrix/server',
  support: '/.well-known/matrix/support',
} as const;

/** The documents serialised once, with their ETags; `undefined` when not configured. */
export type RenderedDocuments = {
  readonly [K in keyof typeof DOCUMENT_PATHS]: StaticDocument | undefined;
};

/** Serialises the well-known documents, once, at start-up. */
export function renderDocuments(documents: Documents): RenderedDocuments {
  return {
    client: staticDocument(documents.client),
    server: documents.server === undefined ? undefined : staticDocument(documents.server),
    support: documents.support === undefined ? undefined : staticDocument(documents.support),
  };
}

/** Options for {@link wellKnownRoutes}. */
export interface WellKnownRoutesOptions {
  readonly rendered: RenderedDocuments;
  /** `Cache-Control: max-age` in seconds. */
  readonly cacheMaxAge: number;
}

/** Content type of every JSON answer (the seed's nginx sends the same). */
export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `GET`/`HEAD /.well-known/matrix/{client,server,support}`: the documents serialised once, with
 * `Cache-Control`, a strong `ETag` and `304 Not Modified` for a matching `If-None-Match`.
 * HEAD comes from Fastify's automatic HEAD routes (same headers, no body). Not configured
 * documents answer `404 M_NOT_FOUND`.
 */
export async function wellKnownRoutes(
  app: FastifyInstance,
  options: WellKnownRoutesOptions,
): Promise<void> {
  const cacheControl = `public, max-age=${options.cacheMaxAge}`;
  const { client, server, support } = options.rendered;
  const serve = (
    url: string,
    name: string,
    schema: TSchema,
    document: StaticDocument | undefined,
  ): void => {
    app.get(
      url,
      {
        // The hot path: keep per-request logs out unless something goes wrong.
        logLevel: 'warn',
        schema: { response: { 200: schema, 304: NotModifiedSchema, 404: MatrixErrorSchema } },
      },
      async (request: FastifyRequest, reply: FastifyReply) => {
        if (document === undefined) throw errors.notConfigured(name);
        reply.header('cache-control', cacheControl).header('etag', document.etag);
        if (ifNoneMatch(request.headers['if-none-match'], document.etag)) {
          return reply.code(304).send();
        }
        return reply.type(JSON_TYPE).send(document.body);
      },
    );
  };
  serve(DOCUMENT_PATHS.client, 'client', ClientDocumentSchema, client);
  serve(DOCUMENT_PATHS.server, 'server', ServerDocumentSchema, server);
  serve(DOCUMENT_PATHS.support, 'support', SupportDocumentSchema, support);
}
