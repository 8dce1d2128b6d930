import { type CheckOutcome, CheckFailure, fail, pass } from './doctor-check.ts';
import type { DoctorContext } from './doctor-context.ts';
import {
  asObject,
  describeAnswer,
  type HttpAnswer,
  joinUrl,
  request,
  statusProblem,
  stringField,
} from './doctor-http.ts';

/** The Origin doctor sends, as a browser running Element Web or Element Call would. */
export const BROWSER_ORIGIN = 'https://app.element.io';

const RTC_FOCI = 'org.matrix.msc4143.rtc_foci';

/** `https://<domain>/.well-known/matrix/<name>`. */
export function wellKnownUrl(domain: string, name: 'client' | 'server' | 'support'): string {
  return `https://${domain}/.well-known/matrix/${name}`;
}

/** Fails unless `url` is https (or http with `--insecure-http`). */
export function requireSecureUrl(ctx: DoctorContext, url: string, what: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new CheckFailure('well-known-invalid', `${what} is not a URL: ${url}`);
  }
  if (protocol === 'https:' || (protocol === 'http:' && ctx.settings.insecureHttp)) return;
  throw new CheckFailure('base-url-not-https', `${what} is ${url}`);
}

async function fetchDocument(ctx: DoctorContext, url: string): Promise<HttpAnswer> {
  const answer = await request(ctx.deps.fetch, url, {
    headers: { origin: BROWSER_ORIGIN, accept: 'application/json' },
    unreachable: 'domain-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  });
  if (answer.status !== 200) {
    throw new CheckFailure(
      statusProblem(answer.status, 'well-known-404', 'well-known-504'),
      `${url}: ${describeAnswer(answer)}`,
    );
  }
  const type = answer.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new CheckFailure('well-known-content-type', `${url}: Content-Type "${type}"`);
  }
  if (asObject(answer.json) === undefined) {
    throw new CheckFailure('well-known-invalid', `${url}: body is not a JSON object`);
  }
  return answer;
}

/** LiveKit service URLs of a list of foci/transports (`type: livekit` entries only). */
export function livekitServiceUrls(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list
    .map(asObject)
    .filter((f) => f?.type === 'livekit')
    .map((f) => stringField(f, 'livekit_service_url'))
    .filter((u): u is string => u !== undefined);
}

/** `/.well-known/matrix/client`: base URL, LiveKit focus, content type. */
export async function checkClientDocument(ctx: DoctorContext): Promise<CheckOutcome> {
  const url = wellKnownUrl(ctx.settings.domain, 'client');
  const doc = asObject((await fetchDocument(ctx, url)).json);
  const baseUrl = stringField(asObject(doc?.['m.homeserver']), 'base_url');
  if (baseUrl === undefined) {
    throw new CheckFailure('well-known-invalid', `${url}: no m.homeserver.base_url`);
  }
  requireSecureUrl(ctx, baseUrl, 'm.homeserver.base_url');
  ctx.found.baseUrl = baseUrl.replace(/\/+$/, '');
  const foci = livekitServiceUrls(doc?.[RTC_FOCI]);
  if (foci.length === 0) return fail('rtc-foci-missing', `${url}: no LiveKit entry in ${RTC_FOCI}`);
  for (const focus of foci) requireSecureUrl(ctx, focus, 'livekit_service_url');
  ctx.found.wellKnownFoci = foci;
  return pass(`base_url ${baseUrl}, focus ${foci.join(', ')}`);
}

/** `/.well-known/matrix/server`: where federation (and OpenID userinfo) is reached. */
export async function checkServerDocument(ctx: DoctorContext): Promise<CheckOutcome> {
  const url = wellKnownUrl(ctx.settings.domain, 'server');
  let answer: HttpAnswer;
  try {
    answer = await fetchDocument(ctx, url);
  } catch (error) {
    if (error instanceof CheckFailure && error.problem === 'well-known-404') {
      return fail('server-well-known-missing', error.message);
    }
    throw error;
  }
  const server = stringField(asObject(answer.json), 'm.server');
  if (server === undefined) return fail('well-known-invalid', `${url}: no m.server`);
  ctx.found.server = server;
  return pass(`m.server ${server}`);
}

/** `/.well-known/matrix/support` (MSC1929): optional, but must be valid when served. */
export async function checkSupportDocument(ctx: DoctorContext): Promise<CheckOutcome> {
  const url = wellKnownUrl(ctx.settings.domain, 'support');
  try {
    const doc = asObject((await fetchDocument(ctx, url)).json);
    const contacts = Array.isArray(doc?.contacts) ? doc.contacts.length : 0;
    const page = stringField(doc, 'support_page');
    return pass(`${contacts} contact(s)${page ? `, support page ${page}` : ''}`);
  } catch (error) {
    if (error instanceof CheckFailure && error.problem === 'well-known-404') {
      return pass('not published (optional, MSC1929)');
    }
    throw error;
  }
}

/** `/_matrix/client/versions` at the advertised base URL, as every client asks first. */
export async function checkClientVersions(ctx: DoctorContext): Promise<CheckOutcome> {
  const base = ctx.found.baseUrl ?? `https://${ctx.settings.domain}`;
  const url = joinUrl(base, '/_matrix/client/versions');
  const answer = await request(ctx.deps.fetch, url, {
    headers: { origin: BROWSER_ORIGIN },
    unreachable: 'homeserver-unreachable',
    timeoutMs: ctx.settings.timeoutMs,
  });
  const versions = asObject(answer.json)?.versions;
  if (answer.status !== 200 || !Array.isArray(versions)) {
    return fail('homeserver-unreachable', `${url}: ${describeAnswer(answer)}`);
  }
  const latest = versions.filter((v): v is string => typeof v === 'string').at(-1) ?? '?';
  return pass(`${versions.length} versions, up to ${latest}`);
}
