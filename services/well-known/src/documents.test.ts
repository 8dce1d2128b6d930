import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { loadWellKnownConfig } from './config.ts';
import { buildDocuments } from './documents.ts';
import {
  ClientDocumentSchema,
  ServerDocumentSchema,
  SupportDocumentSchema,
  TransportsDocumentSchema,
} from './schemas.ts';

const full = loadWellKnownConfig({
  WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
  WELL_KNOWN_SERVER: 'matrix.example.org:443',
  WELL_KNOWN_LIVEKIT_SERVICE_URLS: 'https://lk1.example.org,https://lk2.example.org/jwt',
  WELL_KNOWN_IDENTITY_SERVER_BASE_URL: 'https://vector.im',
  WELL_KNOWN_CLIENT_EXTRA:
    '{"io.element.e2ee":{"default":true},"org.matrix.msc2965.authentication":{"issuer":"https://auth.example.org/"}}',
  WELL_KNOWN_SUPPORT_PAGE: 'https://example.org/help',
  WELL_KNOWN_SUPPORT_CONTACTS: '[{"role":"m.role.admin","matrix_id":"@admin:example.org"}]',
});

describe('buildDocuments', () => {
  it('should build the client document with foci and extra keys', () => {
    const foci = [
      { type: 'livekit', livekit_service_url: 'https://lk1.example.org' },
      { type: 'livekit', livekit_service_url: 'https://lk2.example.org/jwt' },
    ];
    const docs = buildDocuments(full);
    expect(docs.client).toEqual({
      'io.element.e2ee': { default: true },
      'org.matrix.msc2965.authentication': { issuer: 'https://auth.example.org/' },
      'm.homeserver': { base_url: 'https://matrix.example.org' },
      'm.identity_server': { base_url: 'https://vector.im' },
      'org.matrix.msc4143.rtc_foci': foci,
    });
    expect(docs.transports).toEqual({ rtc_transports: foci });
    expect(docs.server).toEqual({ 'm.server': 'matrix.example.org:443' });
    expect(docs.support).toEqual({
      contacts: [{ role: 'm.role.admin', matrix_id: '@admin:example.org' }],
      support_page: 'https://example.org/help',
    });
  });

  it('should match the response schemas', () => {
    const docs = buildDocuments(full);
    expect(Value.Check(ClientDocumentSchema, docs.client)).toBe(true);
    expect(Value.Check(ServerDocumentSchema, docs.server)).toBe(true);
    expect(Value.Check(SupportDocumentSchema, docs.support)).toBe(true);
    expect(Value.Check(TransportsDocumentSchema, docs.transports)).toBe(true);
  });

  it('should leave out what is not configured', () => {
    const docs = buildDocuments(
      loadWellKnownConfig({ WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org' }),
    );
    expect(docs.client).toEqual({ 'm.homeserver': { base_url: 'https://matrix.example.org' } });
    expect(docs.server).toBeUndefined();
    expect(docs.support).toBeUndefined();
    expect(docs.transports).toEqual({ rtc_transports: [] });
  });

  it('should publish a support page alone', () => {
    const docs = buildDocuments(
      loadWellKnownConfig({
        WELL_KNOWN_HOMESERVER_BASE_URL: 'https://matrix.example.org',
        WELL_KNOWN_SUPPORT_PAGE: 'https://example.org/help',
      }),
    );
    expect(docs.support).toEqual({ support_page: 'https://example.org/help' });
  });
});
