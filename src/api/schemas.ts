/**
 * zod 4 schemas for request bodies, queries and responses. They validate requests and generate the
 * OpenAPI description (src/api/openapi.ts), so the docs cannot drift from what the API accepts.
 * Field rules follow docs/protocol.md#target-document and docs/protocol.md#api-endpoints; legacy clients send
 * booleans and ids as strings, so those are accepted and coerced (bodies are JSON only: see
 * request-guard.ts).
 * Each is a getter (src/shared/lazy.ts), built on the first request that needs it: the idle agent keeps
 * none of them.
 */
import * as z from 'zod';
import { lazy, type Built } from '../shared/lazy.js';
import { LocalTargetSchema } from '../domain/target/local-target.js';

/** balena's checkTruthy: booleans, 0/1 and their string forms. */
export const Flag = lazy(() =>
  z
    .union([
      z.boolean(),
      z.literal(0),
      z.literal(1),
      z.enum(['true', 'false', '1', '0', 'on', 'off']),
    ])
    .transform((v) => v === true || v === 1 || v === 'true' || v === '1' || v === 'on'),
);

/** Non-negative integer given as a number or a numeric string (docs/protocol.md#target-document). */
export const NumericId = lazy(() =>
  z
    .union([
      z.number().int().nonnegative(),
      z.string().regex(/^\d+$/, 'must be a non-negative integer'),
    ])
    .transform((v) => Number(v)),
);

export const ShortString = lazy(() => z.string().max(255));
export const DockerName = lazy(() =>
  z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be a Docker name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)'),
);

// ───────────────────────────── requests ─────────────────────────────

export const ForceBody = lazy(() => z.object({ force: Flag().optional() }));

export const UpdateBody = lazy(() =>
  z.object({ force: Flag().optional(), cancel: Flag().optional() }),
);

export const AppIdBody = lazy(() =>
  z.object({
    appId: NumericId().optional(),
    force: Flag().optional(),
  }),
);

export const ServiceActionBody = lazy(() =>
  z.object({
    serviceName: ShortString().optional(),
    imageId: NumericId().optional(),
    force: Flag().optional(),
  }),
);

const INVALID_TAGS = 'Invalid tags body, must be an object like `{[tagKey: string]: string}`';
export const TagsBody = lazy(() =>
  z
    .record(z.string(), z.string({ error: INVALID_TAGS }), { error: INVALID_TAGS })
    .refine((tags) => Object.keys(tags).every((k) => !/\s/.test(k)), {
      message: 'Tag keys cannot contain whitespace',
    }),
);

export const ProxyPatch = lazy(() =>
  z.object({
    type: z.enum(['socks4', 'socks5', 'http-connect', 'http-relay']).optional(),
    ip: ShortString().optional(),
    port: z.number().int().min(1).max(65535).optional(),
    login: ShortString().optional(),
    password: ShortString().optional(),
    noProxy: z.array(ShortString()).optional(),
    dns: z.union([z.string().regex(/^[^:]+:\d+$/, 'must be IP:PORT'), z.boolean()]).optional(),
  }),
);

export const HostConfigBody = lazy(() =>
  z.object({
    network: z
      .object({
        hostname: z
          .string()
          .regex(
            /^$|^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/,
            'must be a valid hostname label',
          )
          .optional(),
        proxy: ProxyPatch().optional(),
      })
      .optional(),
    force: Flag().optional(),
  }),
);

export const ContainerIdQuery = lazy(() =>
  z.object({
    serviceName: ShortString().optional(),
    service: ShortString().optional(),
  }),
);

/**
 * The v2 local body balena-cli posts: the domain's schema, so the API, the OpenAPI document and the
 * conversion to v3 (src/domain/target/local-target.ts) agree on one definition.
 */
export const LocalTargetBody = LocalTargetSchema;
export type LocalTargetBody = z.output<Built<typeof LocalTargetSchema>>;

// ───────────────────────────── responses ─────────────────────────────

export const FailedResponse = lazy(() =>
  z.object({ status: z.literal('failed'), message: z.string() }),
);

export const SuccessResponse = lazy(() => z.object({ status: z.literal('success') }));
export const SuccessMessageResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    message: z.literal('OK'),
  }),
);
export const DataErrorResponse = lazy(() =>
  z.object({ Data: z.string(), Error: z.string().nullable() }),
);
export const ContainerIdResponse = lazy(() => z.object({ containerId: z.string().nullable() }));

export const VersionResponse = lazy(() =>
  z.object({ status: z.literal('success'), version: z.string() }),
);

export const StateStatusResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    appState: z.enum(['applied', 'applying']),
    overallDownloadProgress: z.number().nullable(),
    containers: z.array(
      z.object({
        status: z.string(),
        serviceName: z.string(),
        appId: z.number(),
        imageId: z.number(),
        serviceId: z.number(),
        containerId: z.string(),
        createdAt: z.string().nullable(),
      }),
    ),
    images: z.array(
      z.object({
        name: z.string(),
        appId: z.number(),
        serviceName: z.string(),
        imageId: z.number(),
        dockerImageId: z.string().nullable(),
        status: z.string(),
        downloadProgress: z.number().nullable(),
      }),
    ),
    release: z.string().nullable(),
    /** bosun: the cloud link of a managed device (absent otherwise); times in ISO 8601. */
    cloud: z
      .object({
        endpoint: z.string(),
        provisioned: z.boolean(),
        reachable: z.boolean().nullable(),
        lastSuccessfulPoll: z.string().nullable(),
        offlineSince: z.string().nullable(),
        lastError: z.string().nullable(),
        connectivityCheck: z.enum(['connected', 'disconnected', 'unknown', 'off']),
      })
      .optional(),
    // bosun's own (health-gated rollback): balena-cli ignores fields it does not know.
    rollback: z
      .object({
        failedRelease: z.string(),
        reason: z.string(),
        service: z.string().nullable(),
        cause: z.enum(['unhealthy', 'crashLoop', 'notRunning']),
        at: z.string(),
        rolledBackTo: z.string().nullable(),
      })
      .nullable()
      .describe(
        'The target release that failed its confirmation window, why, and what runs instead',
      ),
    confirmation: z
      .object({ release: z.string(), until: z.string() })
      .nullable()
      .describe('The release being watched after an update, and when its confirmation window ends'),
  }),
);

export const ApplicationsStateResponse = lazy(() =>
  z.record(
    z.string(),
    z.object({
      appId: z.number(),
      appUuid: z.string(),
      commit: z.string().nullable(),
      updateStatus: z.string(),
      services: z.record(
        z.string(),
        z.object({
          status: z.string(),
          image: z.string(),
          releaseId: z.number(),
          downloadProgress: z.number().nullable(),
        }),
      ),
    }),
  ),
);

export const LegacyAppStateResponse = lazy(() =>
  z.object({
    commit: z.string().nullable(),
    local: z.record(
      z.string(),
      z.object({
        services: z.record(
          z.string(),
          z.object({
            status: z.string(),
            releaseId: z.number(),
            download_progress: z.number().nullable(),
          }),
        ),
      }),
    ),
  }),
);

export const V1AppResponse = lazy(() =>
  z.object({
    appId: z.number(),
    commit: z.string().nullable(),
    containerId: z.string(),
    env: z.record(z.string(), z.string()),
    imageId: z.string(),
    releaseId: z.number(),
  }),
);

export const V1DeviceResponse = lazy(() =>
  z.object({
    api_port: z.number(),
    ip_address: z.string(),
    os_version: z.string().nullable(),
    mac_address: z.string(),
    supervisor_version: z.string(),
    update_pending: z.boolean(),
    update_failed: z.boolean(),
    update_downloaded: z.boolean(),
    commit: z.string().optional(),
    status: z.string(),
    download_progress: z.number().nullable(),
  }),
);

export const HostConfigResponse = lazy(() =>
  z.object({
    network: z.object({ hostname: z.string(), proxy: ProxyPatch().optional() }),
  }),
);

export const ContainerIdLookupResponse = lazy(() =>
  z.union([
    z.object({ status: z.literal('success'), containerId: z.string() }),
    z.object({ status: z.literal('success'), services: z.record(z.string(), z.string()) }),
  ]),
);

export const DeviceNameResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    deviceName: z.string(),
  }),
);
export const TagsResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    tags: z.array(z.object({ id: z.number().optional(), name: z.string(), value: z.string() })),
  }),
);
export const VpnResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    vpn: z.object({ enabled: z.boolean(), connected: z.boolean() }),
  }),
);
export const DeviceInfoResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    info: z.object({ arch: z.string(), deviceType: z.string() }),
  }),
);
export const LocalTargetResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    state: z.object({
      local: z.object({
        name: z.string(),
        config: z.record(z.string(), z.string()),
        apps: z.record(z.string(), z.unknown()),
      }),
    }),
  }),
);
export const LogLineSchema = lazy(() =>
  z.object({
    message: z.string(),
    timestamp: z.number(),
    isSystem: z.boolean().optional(),
    isStdErr: z.boolean().optional(),
    serviceId: z.number().optional(),
    serviceName: z.string().optional(),
  }),
);

/** POST /v2/journal-logs; values become separate journalctl arguments (never a shell). */
export const JournalLogsBody = lazy(() =>
  z.object({
    all: Flag().optional(),
    follow: Flag().optional(),
    count: z
      .union([
        z.number().int().positive(),
        z.string().regex(/^[1-9]\d*$/, 'must be a positive integer'),
      ])
      .transform((v) => Number(v))
      .optional(),
    unit: ShortString().optional(),
    containerId: ShortString().optional(),
    format: z
      .enum([
        'short',
        'short-iso',
        'short-iso-precise',
        'short-precise',
        'short-monotonic',
        'short-unix',
        'verbose',
        'export',
        'json',
        'json-pretty',
        'json-sse',
        'json-seq',
        'cat',
        'with-unit',
      ])
      .default('short'),
    since: ShortString().optional(),
    until: ShortString().optional(),
  }),
);
export type JournalLogsBody = z.output<Built<typeof JournalLogsBody>>;
