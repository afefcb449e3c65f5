/**
 * Resolves `*.local` names over multicast DNS when the system resolver cannot
 * (docs/protocol.md#mdns-resolution: musl and minimal images have no nss-mdns). Unlike balena-supervisor this
 * does not patch `dns.lookup` globally: `mdnsFallbackLookup` returns a lookup function that HTTP clients take
 * as their `lookup` option.
 */
import dns, { type LookupAddress, type LookupOptions } from 'node:dns';

export interface MdnsResolveOptions {
  /** 4 or 6 asks only for A or AAAA; absent asks for both. */
  family?: 4 | 6;
  timeoutMs?: number;
  /** IPv4 address of the interface to query on; the system's default multicast interface otherwise. */
  interfaceAddress?: string;
}

/** Addresses answered for `name`, IPv4 first; empty when nobody answered within the timeout. */
export async function resolveMdns(
  name: string,
  options: MdnsResolveOptions = {},
): Promise<LookupAddress[]> {
  // Loaded on first use: most devices never resolve a `.local` name (and the package stays outside the bundle).
  const { default: makeMdns } = await import('multicast-dns');
  const families = options.family === undefined ? [4, 6] : [options.family];
  const types: Array<'A' | 'AAAA'> = families.map((f) => (f === 4 ? 'A' : 'AAAA'));
  const wanted = name.toLowerCase();
  const mdns = makeMdns({
    ...(options.interfaceAddress === undefined
      ? {}
      : { interface: options.interfaceAddress, bind: '0.0.0.0' }),
  });
  return new Promise((resolve) => {
    const found = new Map<'A' | 'AAAA', Set<string>>();
    const finish = (): void => {
      clearTimeout(timer);
      mdns.destroy();
      const v4 = [...(found.get('A') ?? [])].map((address) => ({ address, family: 4 }));
      const v6 = [...(found.get('AAAA') ?? [])].map((address) => ({ address, family: 6 }));
      resolve([...v4, ...v6]);
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 2000);
    mdns.on('response', (packet) => {
      for (const record of [...packet.answers, ...(packet.additionals ?? [])]) {
        if ((record.type !== 'A' && record.type !== 'AAAA') || !types.includes(record.type))
          continue;
        if (record.name.toLowerCase() !== wanted || typeof record.data !== 'string') continue;
        const set = found.get(record.type) ?? new Set<string>();
        set.add(record.data);
        found.set(record.type, set);
      }
      if (types.every((t) => found.has(t))) finish();
    });
    mdns.on('error', finish);
    mdns.query({ questions: types.map((type) => ({ name, type })) });
  });
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
) => void;

/**
 * A `dns.lookup`-shaped function: the system resolver first; only when it fails for a `.local` name,
 * an mDNS query. Honours `family` and `all` like `dns.lookup`; fails with ENOTFOUND when nobody answers.
 */
export function mdnsFallbackLookup(
  primary: LookupFunction = dns.lookup,
  resolve: (name: string, options: MdnsResolveOptions) => Promise<LookupAddress[]> = resolveMdns,
): LookupFunction {
  return (hostname, options, callback) => {
    primary(hostname, options, (err, address, family) => {
      if (!err || !hostname.toLowerCase().endsWith('.local')) {
        callback(err, address, family);
        return;
      }
      const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
      resolve(hostname, wanted === undefined ? {} : { family: wanted }).then(
        (addresses) => {
          const first = addresses[0];
          if (first === undefined) callback(err, options.all ? [] : '', undefined);
          else if (options.all) callback(null, addresses);
          else callback(null, first.address, first.family);
        },
        () => callback(err, options.all ? [] : '', undefined),
      );
    });
  };
}
