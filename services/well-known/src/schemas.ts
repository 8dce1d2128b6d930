import { Type } from 'typebox';

// Response schemas of every route: they document the wire format, and tests check the built
// documents against them. Bodies are serialised once at start-up, so these never run per request.

/** A LiveKit focus / RTC transport. */
export const LivekitTransportSchema = Type.Object({
  type: Type.Literal('livekit'),
  livekit_service_url: Type.String({ format: 'uri' }),
});

const BaseUrl = Type.Object({ base_url: Type.String({ format: 'uri' }) });

/** `/.well-known/matrix/client`; extra namespaced keys are allowed. */
export const ClientDocumentSchema = Type.Object(
  {
    'm.homeserver': BaseUrl,
    'm.identity_server': Type.Optional(BaseUrl),
    'org.matrix.msc4143.rtc_foci': Type.Optional(
      Type.Array(LivekitTransportSchema, { minItems: 1 }),
    ),
  },
  { additionalProperties: true },
);

/** `/.well-known/matrix/server`. */
export const ServerDocumentSchema = Type.Object({ 'm.server': Type.String() });

/** `/.well-known/matrix/support`. */
export const SupportDocumentSchema = Type.Object({
  contacts: Type.Optional(
    Type.Array(
      Type.Object({
        role: Type.String(),
        matrix_id: Type.Optional(Type.String()),
        email_address: Type.Optional(Type.String()),
      }),
    ),
  ),
  support_page: Type.Optional(Type.String({ format: 'uri' })),
});

/** `/_matrix/client/{v1,unstable/org.matrix.msc4143}/rtc/transports`. */
export const TransportsDocumentSchema = Type.Object({
  rtc_transports: Type.Array(LivekitTransportSchema),
});

/** Every error body. */
export const MatrixErrorSchema = Type.Object(
  { errcode: Type.String(), error: Type.String() },
  { additionalProperties: true },
);

/** `/healthz`. */
export const HealthSchema = Type.Object({ status: Type.Literal('ok') });

/** A 304 has no body. */
export const NotModifiedSchema = Type.Null({ description: 'Not modified' });
