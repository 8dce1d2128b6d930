import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { isIPv4 } from 'node:net';
import type { DnsResolver } from '@rtc-sidecars/matrix-openid';

/** Addresses for a name, fixed or chosen per query (the n-th A query of that name, from 1). */
export type AddressAnswer = readonly string[] | ((query: number) => readonly string[]);

/** What the server knows about one name. */
export interface DnsZoneEntry {
  readonly A?: AddressAnswer;
  readonly AAAA?: AddressAnswer;
  readonly SRV?: readonly {
    readonly target: string;
    readonly port: number;
    readonly priority?: number;
    readonly weight?: number;
  }[];
}

/** A running {@link startDnsServer}. */
export interface DnsServer {
  /** `127.0.0.1:<port>`, for `Resolver.setServers`. */
  readonly address: string;
  /** Every question received, as `TYPE name`. */
  readonly questions: string[];
  close(): Promise<void>;
}

const TYPES: Readonly<Record<number, string>> = { 1: 'A', 28: 'AAAA', 33: 'SRV' };

/**
 * A minimal authoritative DNS server over UDP on 127.0.0.1: A, AAAA and SRV answers from
 * `zone` (names compared case-insensitively, without the trailing dot), NXDOMAIN for unknown
 * names, an empty answer for other types. TTL 0, so nothing between it and the verifier may
 * cache an answer, which is what a rebinding attacker does.
 */
export async function startDnsServer(
  zone: Readonly<Record<string, DnsZoneEntry>>,
): Promise<DnsServer> {
  const questions: string[] = [];
  const counts = new Map<string, number>();
  const socket: Socket = createSocket('udp4');
  socket.on('message', (message: Buffer, peer: RemoteInfo) => {
    const reply = answer(message, zone, questions, counts);
    if (reply !== undefined) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    questions,
    close: () =>
      new Promise<void>((resolve) =>
        socket.close(() => {
          resolve();
        }),
      ),
  };
}

function answer(
  query: Buffer,
  zone: Readonly<Record<string, DnsZoneEntry>>,
  questions: string[],
  counts: Map<string, number>,
): Buffer | undefined {
  if (query.length < 17) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const length = query[at] as number;
    labels.push(query.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  const questionEnd = at + 5;
  if (questionEnd > query.length) return undefined;
  const type = query.readUInt16BE(at + 1);
  const name = labels.join('.').toLowerCase();
  const typeName = TYPES[type] ?? String(type);
  questions.push(`${typeName} ${name}`);
  const entry = Object.hasOwn(zone, name) ? zone[name] : undefined;
  const records: Buffer[] = [];
  if (entry !== undefined) {
    const key = `${typeName} ${name}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    const pick = (a: AddressAnswer | undefined): readonly string[] =>
      typeof a === 'function' ? a(n) : (a ?? []);
    if (type === 1)
      for (const ip of pick(entry.A).filter((x) => isIPv4(x))) records.push(rr(1, ipv4(ip)));
    if (type === 28) for (const ip of pick(entry.AAAA)) records.push(rr(28, ipv6(ip)));
    if (type === 33) {
      for (const s of entry.SRV ?? []) {
        const data = Buffer.alloc(6);
        data.writeUInt16BE(s.priority ?? 0, 0);
        data.writeUInt16BE(s.weight ?? 0, 2);
        data.writeUInt16BE(s.port, 4);
        records.push(rr(33, Buffer.concat([data, encodeName(s.target)])));
      }
    }
  }
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  // QR, AA, RD copied, RA; NXDOMAIN for names outside the zone.
  const rd = (query[2] as number) & 0x01;
  header.writeUInt16BE(0x8480 | (rd << 8) | (entry === undefined ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}

function rr(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the question's name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(0, 6); // TTL 0
  head.writeUInt16BE(data.length, 10);
  return Buffer.concat([head, data]);
}

function encodeName(name: string): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l !== '');
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.of(l.length), Buffer.from(l, 'latin1')])),
    Buffer.of(0),
  ]);
}

function ipv4(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function ipv6(ip: string): Buffer {
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4 !== undefined) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/**
 * The verifier's DNS interface backed by a real resolver (c-ares, as `dns.resolve*` uses)
 * pointed at `server`: A and AAAA for `lookup`, SRV for `resolveSrv`.
 */
export function resolverFor(server: string): DnsResolver {
  const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([server]);
  return {
    async lookup(hostname) {
      const [a, aaaa] = await Promise.allSettled([
        resolver.resolve4(hostname),
        resolver.resolve6(hostname),
      ]);
      const answers = [
        ...(a.status === 'fulfilled'
          ? a.value.map((address) => ({ address, family: 4 as const }))
          : []),
        ...(aaaa.status === 'fulfilled'
          ? aaaa.value.map((address) => ({ address, family: 6 as const }))
          : []),
      ];
      if (answers.length === 0) {
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      }
      return answers;
    },
    resolveSrv: async (name) => resolver.resolveSrv(name),
  };
}
