import { promises as dns } from 'node:dns';

/** One address answer, as `dns.lookup(name, { all: true })` gives it. */
export interface LookupAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** One SRV answer. */
export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/**
 * The DNS operations discovery needs. Injectable so tests (and unusual deployments) control the
 * answers without a DNS server; the default uses the system resolver (`dns.lookup`, so
 * `/etc/hosts` and container DNS behave as for any other program) and `dns.resolveSrv`.
 */
export interface DnsResolver {
  /** Every address of a host name; rejects (e.g. `ENOTFOUND`) when there is none. */
  lookup(hostname: string): Promise<readonly LookupAddress[]>;
  /** SRV records of `name`; resolves `[]` or rejects when there are none. */
  resolveSrv(name: string): Promise<readonly SrvRecord[]>;
}

/** The system resolver. */
export const systemDnsResolver: DnsResolver = {
  async lookup(hostname) {
    const answers = await dns.lookup(hostname, { all: true, order: 'verbatim' });
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  },
  async resolveSrv(name) {
    return dns.resolveSrv(name);
  },
};
