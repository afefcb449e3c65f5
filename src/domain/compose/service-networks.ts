/**
 * Compose service `networks` (list or map form, docs/protocol.md#service-networks) and `depends_on` (list or
 * long form).
 */
import * as z from 'zod';
import { lazy } from '../../shared/lazy.js';
import type { DependencyCondition } from '../model.js';
import { setOwn } from '../records.js';
import { Str, StrList } from './scalars.js';

export interface ServiceNetwork {
  /** Logical (compose) network name. */
  name: string;
  aliases: string[];
  ipv4Address: string | undefined;
  ipv6Address: string | undefined;
  linkLocalIps: string[];
}

const NetworkAttachment = lazy(() =>
  z
    .object({
      aliases: StrList().optional(),
      ipv4_address: Str().optional(),
      ipv4Address: Str().optional(),
      ipv6_address: Str().optional(),
      ipv6Address: Str().optional(),
      link_local_ips: StrList().optional(),
      linkLocalIps: StrList().optional(),
    })
    .nullable(),
);

/** In declaration order: the first one is the container's main network when `network_mode` is unset. */
export const ServiceNetworks = lazy(() =>
  z
    .union([StrList(), z.record(z.string(), NetworkAttachment())], {
      error: 'must be a list of network names or a map of name → {aliases, ipv4_address, …}',
    })
    .transform((value): ServiceNetwork[] => {
      if (Array.isArray(value))
        return value.map((name) => ({
          name,
          aliases: [],
          ipv4Address: undefined,
          ipv6Address: undefined,
          linkLocalIps: [],
        }));
      return Object.entries(value).map(([name, a]) => ({
        name,
        aliases: a?.aliases ?? [],
        ipv4Address: a?.ipv4_address ?? a?.ipv4Address,
        ipv6Address: a?.ipv6_address ?? a?.ipv6Address,
        linkLocalIps: a?.link_local_ips ?? a?.linkLocalIps ?? [],
      }));
    }),
);

const Condition = lazy(() =>
  z.enum(['service_started', 'service_healthy', 'service_completed_successfully'], {
    error: 'condition must be service_started, service_healthy or service_completed_successfully',
  }),
);

const LongDependency = lazy(() =>
  z
    .object({
      condition: Condition().optional(),
      required: z.boolean().optional(),
      restart: z.boolean().optional(),
    })
    .nullable(),
);

export const DependsOn = lazy(() =>
  z
    .union([StrList(), z.record(z.string(), LongDependency())], {
      error: 'must be a list of service names or a map of name → {condition}',
    })
    .transform((value) => {
      const deps: Record<string, DependencyCondition> = {};
      if (Array.isArray(value)) for (const name of value) setOwn(deps, name, 'service_started');
      else
        for (const [name, dep] of Object.entries(value))
          setOwn(deps, name, dep?.condition ?? 'service_started');
      return deps;
    }),
);
