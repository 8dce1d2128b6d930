import type { WellKnownConfig } from './config.ts';
import type { SupportContact } from './support-contacts.ts';

/** A LiveKit focus / RTC transport, as MSC4143 and Element Call expect it. */
export interface LivekitTransport {
  readonly type: 'livekit';
  readonly livekit_service_url: string;
}

/** `/.well-known/matrix/client`. */
export interface ClientDocument {
  readonly 'm.homeserver': { readonly base_url: string };
  readonly 'm.identity_server'?: { readonly base_url: string };
  readonly 'org.matrix.msc4143.rtc_foci'?: readonly LivekitTransport[];
  readonly [extra: string]: unknown;
}

/** `/.well-known/matrix/server`. */
export interface ServerDocument {
  readonly 'm.server': string;
}

/** `/.well-known/matrix/support`. */
export interface SupportDocument {
  readonly contacts?: readonly SupportContact[];
  readonly support_page?: string;
}

/** `/_matrix/client/v1/rtc/transports` (MSC4143). */
export interface TransportsDocument {
  readonly rtc_transports: readonly LivekitTransport[];
}

/** The documents the service serves; `undefined` for those that are not configured. */
export interface Documents {
  readonly client: ClientDocument;
  readonly server: ServerDocument | undefined;
  readonly support: SupportDocument | undefined;
  readonly transports: TransportsDocument;
}

/**
 * Builds every document from the configuration. Extra client keys come first so that the keys
 * the service owns can never be shadowed (the config loader also refuses such clashes).
 */
export function buildDocuments(config: WellKnownConfig): Documents {
  const transports = (config.livekitServiceUrls ?? []).map((url): LivekitTransport => ({
    type: 'livekit',
    livekit_service_url: url,
  }));
  const client: ClientDocument = {
    ...config.clientExtra,
    'm.homeserver': { base_url: config.homeserverBaseUrl },
    ...(config.identityServerBaseUrl === undefined
      ? {}
      : { 'm.identity_server': { base_url: config.identityServerBaseUrl } }),
    ...(transports.length === 0 ? {} : { 'org.matrix.msc4143.rtc_foci': transports }),
  };
  const server = config.server === undefined ? undefined : { 'm.server': config.server };
  const support =
    config.supportContacts === undefined && config.supportPage === undefined
      ? undefined
      : {
          ...(config.supportContacts === undefined ? {} : { contacts: config.supportContacts }),
          ...(config.supportPage === undefined ? {} : { support_page: config.supportPage }),
        };
  return { client, server, support, transports: { rtc_transports: transports } };
}
