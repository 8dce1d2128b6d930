import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TransportsDocument } from './documents.ts';
import { errors } from './errors.ts';
import { MatrixErrorSchema, TransportsDocumentSchema } from './schemas.ts';
import { staticDocument } from './static-document.ts';
import { JSON_TYPE } from './well-known-routes.ts';
import type { WhoamiClient } from './whoami-client.ts';

/** Options for {@link transportsRoutes}. */
export interface TransportsRoutesOptions {
  readonly transports: TransportsDocument;
  readonly whoami: Pick<WhoamiClient, 'check'>;
}

/** The stable path and the unstable one Element Call v0.24+ asks (MSC4143). */
export const TRANSPORTS_PATHS = [
  '/_matrix/client/v1/rtc/transports',
  '/_matrix/client/unstable/org.matrix.msc4143/rtc/transports',
] as const;

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * MSC4143 RTC transports, for homeservers that do not serve them: the same LiveKit foci as the
 * client document, behind the Matrix access token, which the homeserver checks (whoami).
 */
export async function transportsRoutes(
  app: FastifyInstance,
  options: TransportsRoutesOptions,
): Promise<void> {
  const { body } = staticDocument(options.transports);
  const schema = {
    response: { 200: TransportsDocumentSchema, '4xx': MatrixErrorSchema, '5xx': MatrixErrorSchema },
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined) throw errors.missingToken();
    await options.whoami.check(token);
    // Per-user answer to an authenticated request: no shared caching.
    return reply.header('cache-control', 'no-store').type(JSON_TYPE).send(body);
  };
  for (const url of TRANSPORTS_PATHS) app.get(url, { schema }, handler);
}
