/**
 * Child process for test/integration/mdns.spec.ts, run inside a network namespace: does what
 * `balena device detect` does (docs/protocol.md#mdns) on the interface with IPv4 `argv[2]` for `argv[3]` ms,
 * and prints `{event:'found', host, address, port, subtypes}` per device, then `{event:'done'}`.
 * With `argv[4]` it also resolves that `.local` name through bosun's mDNS fallback lookup.
 */
import Bonjour from 'bonjour-service';
import { mdnsFallbackLookup } from '../../src/device/mdns-resolver.js';
import { resolveMdns } from '../../src/device/mdns-resolver.js';

const [address = '', waitMs = '4000', resolveName] = process.argv.slice(2);
const out = (value: object): boolean => process.stdout.write(`${JSON.stringify(value)}\n`);

if (resolveName !== undefined) {
  const lookup = mdnsFallbackLookup(undefined, (name, options) =>
    resolveMdns(name, { ...options, interfaceAddress: address, timeoutMs: Number(waitMs) }),
  );
  const result = await new Promise<object>((resolve) =>
    lookup(resolveName, { family: 4 }, (err, resolved, family) =>
      resolve(
        err
          ? { event: 'resolved', error: err.code ?? err.message }
          : { event: 'resolved', address: resolved, family },
      ),
    ),
  );
  out(result);
} else {
  const bonjour = new Bonjour({
    interface: address,
    bind: '0.0.0.0',
  } as Partial<Bonjour.ServiceConfig>);
  const browser = bonjour.find({ type: 'ssh', name: '_resin-device._sub', protocol: 'tcp' });
  browser.on('up', (service: Bonjour.Service) => {
    if (!(service.subtypes ?? []).includes('resin-device')) return;
    out({
      event: 'found',
      host: service.host,
      address: service.referer?.address,
      port: service.port,
      subtypes: service.subtypes,
    });
  });
  await new Promise((resolve) => setTimeout(resolve, Number(waitMs)));
  browser.stop();
  await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
}
out({ event: 'done' });
process.exit(0);
