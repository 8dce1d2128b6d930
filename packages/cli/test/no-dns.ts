// Preloaded with `--import` into the CLI processes a test starts from the installed command:
// every DNS lookup fails with ENOTFOUND, as it does for a name that has no record yet. So a
// printed `rtc-sidecars doctor DIR` runs exactly as printed and no packet leaves the machine.
import dns from 'node:dns';

function noSuchName(hostname: string, ...rest: unknown[]): void {
  const callback = rest.at(-1);
  const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    hostname,
  });
  if (typeof callback === 'function')
    process.nextTick(() => {
      (callback as (e: Error) => void)(error);
    });
}

dns.lookup = noSuchName as unknown as typeof dns.lookup;
