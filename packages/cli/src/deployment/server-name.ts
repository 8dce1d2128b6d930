import { isIP } from 'node:net';

import { UsageError } from '../cli-error.ts';

// One DNS label: letters, digits and inner hyphens, at most 63 characters (RFC 1123).
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks the Matrix server name for a deployment and returns it in lower case.
 *
 * The Matrix grammar also allows IP literals and an explicit port, but this bundle publishes
 * the homeserver on 443 behind Traefik with a Let's Encrypt certificate, and a server name can
 * never change once users exist: so only a fully qualified DNS name is accepted, never `IP:port`
 * (the trap of Runtipi's unexposed `APP_DOMAIN`).
 *
 * @throws {@link UsageError} with a one-line reason.
 */
export function parseServerName(input: string, flag = '--domain'): string {
  const name = input.trim().toLowerCase();
  if (name === '') throw new UsageError(`${flag} is required (e.g. ${flag} hi.example.org)`);
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/.exec(name);
  if (url !== null) {
    throw new UsageError(
      `${flag} "${input}" is a URL; give the bare name${url[1] ? ` (${url[1]})` : ''}, without scheme or path`,
    );
  }
  if (name.includes('/')) {
    throw new UsageError(
      `${flag} "${input}" contains a path; give the bare name, e.g. hi.example.org`,
    );
  }
  const bare = name.startsWith('[') ? name.slice(1, name.indexOf(']')) : name.split(':')[0];
  if (isIP(bare ?? '') !== 0) {
    throw new UsageError(
      `${flag} "${input}" is an IP address; a Matrix server name here must be a DNS name`,
    );
  }
  if (name.includes(':')) {
    throw new UsageError(
      `${flag} "${input}" carries a port; give the bare name, the bundle serves it on 443`,
    );
  }
  if (name.endsWith('.')) {
    throw new UsageError(`${flag} "${input}" must not end with a dot`);
  }
  if (name.length > 253) throw new UsageError(`${flag} "${input}" is longer than 253 characters`);
  const labels = name.split('.');
  if (labels.length < 2) {
    throw new UsageError(`${flag} "${input}" is not fully qualified (e.g. hi.example.org)`);
  }
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    throw new UsageError(`${flag} "${input}" is not a valid server name (bad label "${bad}")`);
  }
  if (/^\d+$/.test(labels.at(-1) ?? '')) {
    throw new UsageError(`${flag} "${input}" has a numeric top-level label`);
  }
  return name;
}
