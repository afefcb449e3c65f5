/**
 * Compose `ports` (docs/protocol.md#ports): `[[ip:]host[-hostEnd]:]container[-containerEnd][/tcp|udp]`,
 * a bare number, or the long form `{target, published, host_ip, protocol}`. Ranges expand to one mapping
 * per port, so "8080-8081:80-81" and two single mappings are the same configuration.
 */
import * as z from 'zod';
import { lazy } from '../../shared/lazy.js';

export interface PortMapping {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  /** '' = all interfaces. */
  hostIp: string;
  /** '' = an ephemeral port chosen by the engine. */
  hostPort: string;
}

interface Range {
  start: number;
  end: number;
}

function parseRange(text: string): Range | string {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!match) return `"${text}" is not a port or port range`;
  const start = Number(match[1]);
  const end = match[2] === undefined ? start : Number(match[2]);
  if (start < 1 || end > 65535) return `port ${text} is outside 1-65535`;
  if (end < start) return `port range ${text} ends before it starts`;
  return { start, end };
}

/** 'tcp' or 'udp' (default tcp), or undefined when it is neither. */
function parseProtocol(text: string | undefined): 'tcp' | 'udp' | undefined {
  const proto = (text ?? 'tcp').toLowerCase();
  return proto === 'tcp' || proto === 'udp' ? proto : undefined;
}

function expand(
  container: Range,
  host: Range | undefined,
  hostIp: string,
  protocol: 'tcp' | 'udp',
): PortMapping[] | string {
  const length = container.end - container.start;
  if (host !== undefined && host.end - host.start !== length)
    return 'host and container port ranges must have the same length';
  const mappings: PortMapping[] = [];
  for (let i = 0; i <= length; i++) {
    mappings.push({
      containerPort: container.start + i,
      protocol,
      hostIp,
      hostPort: host === undefined ? '' : String(host.start + i),
    });
  }
  return mappings;
}

/** Parses the short syntax; returns the mappings or a reason. */
export function parsePortString(spec: string): PortMapping[] | string {
  const slash = spec.lastIndexOf('/');
  const protoText = slash < 0 ? undefined : spec.slice(slash + 1);
  const protocol = parseProtocol(protoText);
  if (protocol === undefined) return `protocol "${protoText}" is not tcp or udp`;
  let rest = slash < 0 ? spec : spec.slice(0, slash);
  let hostIp = '';
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']:');
    if (close < 0) return `"${spec}" has an unterminated IPv6 address`;
    hostIp = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(':');
  if (hostIp !== '' && parts.length !== 2) return `"${spec}" is not [ip:]host:container`;
  if (parts.length > 3) return `"${spec}" has too many ":" (use [ip:][host:]container)`;
  if (parts.length === 3) hostIp = parts.shift()!;
  const container = parseRange(parts.pop()!);
  if (typeof container === 'string') return container;
  const hostText = parts.pop();
  if (hostText === undefined || hostText === '')
    return expand(container, undefined, hostIp, protocol);
  const host = parseRange(hostText);
  if (typeof host === 'string') return host;
  return expand(container, host, hostIp, protocol);
}

const LongPort = lazy(() =>
  z.object({
    target: z.number().int().min(1).max(65535),
    published: z
      .union([z.string(), z.number().int().min(1).max(65535).transform(String)])
      .optional(),
    host_ip: z.string().optional(),
    protocol: z.string().optional(),
    mode: z.enum(['host', 'ingress']).optional(),
    name: z.string().optional(),
    app_protocol: z.string().optional(),
  }),
);

const PortEntry = lazy(() =>
  z.union([z.string(), z.number(), LongPort()], {
    error:
      'must be "[ip:][host:]container[/proto]", a port number, or {target, published, protocol}',
  }),
);

export const Ports = lazy(() =>
  z.array(PortEntry(), { error: 'must be a list' }).transform((entries, ctx) => {
    const mappings: PortMapping[] = [];
    entries.forEach((entry, index) => {
      let parsed: PortMapping[] | string;
      if (typeof entry === 'string') parsed = parsePortString(entry.trim());
      else if (typeof entry === 'number')
        parsed = Number.isInteger(entry)
          ? parsePortString(String(entry))
          : `${entry} is not a port`;
      else {
        const protocol = parseProtocol(entry.protocol);
        const host =
          entry.published === undefined || entry.published === ''
            ? undefined
            : parseRange(entry.published);
        if (protocol === undefined) parsed = `protocol "${entry.protocol}" is not tcp or udp`;
        else if (typeof host === 'string') parsed = host;
        else
          parsed = expand(
            { start: entry.target, end: entry.target },
            host,
            entry.host_ip ?? '',
            protocol,
          );
      }
      if (typeof parsed === 'string')
        ctx.addIssue({ code: 'custom', message: parsed, path: [index] });
      else mappings.push(...parsed);
    });
    return mappings;
  }),
);
