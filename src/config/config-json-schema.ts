/**
 * config.json (docs/protocol.md#configjson): the known fields bosun reads or writes, typed. Unknown keys are
 * kept as they are (the OS and other tools put their own keys in this file) and written back unchanged.
 * Types are strict: a number written as a string is an error rather than a silent guess.
 */
import * as z from 'zod';

const port = z.int().min(1).max(65535);

export const configJsonSchema = z.looseObject({
  /** Cloud API base URL; absent or '' means unmanaged. */
  apiEndpoint: z.string().optional(),
  /** Local API socket timeout, ms. */
  apiTimeout: z.int().nonnegative().optional(),
  /** Local API port (BOSUN_API_PORT wins over it). */
  listenPort: port.optional(),
  deltaEndpoint: z.string().optional(),
  /** Device uuid; generated (32 hex) when absent or ''. */
  uuid: z.string().optional(),
  /** Provisioning key; removed after provisioning. */
  apiKey: z.string().optional(),
  /** Device API key; generated (32 hex) when absent or ''. */
  deviceApiKey: z.string().optional(),
  deviceId: z.int().optional(),
  /** ms since the epoch. */
  registered_at: z.int().optional(),
  applicationId: z.int().optional(),
  /** Target poll interval, ms (mirrors config var SUPERVISOR_POLL_INTERVAL). */
  appUpdatePollInterval: z.int().positive().optional(),
  /** Delay between provisioning retries, ms. */
  bootstrapRetryDelay: z.int().nonnegative().optional(),
  hostname: z.string().optional(),
  persistentLogging: z.boolean().optional(),
  initialDeviceName: z.string().optional(),
  developmentMode: z.boolean().optional(),
  deviceType: z.string().optional(),
  logsEndpoint: z.string().optional(),
  /** The cloud's registry host (e.g. registry2.balena-cloud.com): pulls from it use d_<uuid> / device key. */
  registryEndpoint: z.string().optional(),
  os: z.looseObject({}).optional(),
  /** Base64 PEM of a CA to trust for cloud requests besides the system CAs (self-signed openBalena). */
  balenaRootCA: z.string().optional(),
});

export type ConfigJson = z.infer<typeof configJsonSchema>;

/** config.json once bosun has made sure the device has an identity. */
export type ConfigJsonWithIdentity = ConfigJson & {
  readonly uuid: string;
  readonly deviceApiKey: string;
};

/** Changes to known fields (the index signature of kept unknown keys is dropped); `null` deletes the key. */
export type ConfigJsonChanges = {
  [K in keyof ConfigJson as string extends K ? never : K]?: ConfigJson[K] | null;
};
