/**
 * Per-service log forwarding from the container's `BALENA_LOGS_LEVEL` (or `RESIN_LOGS_LEVEL`) env
 * (docs/protocol.md#log-levels): `none` → not captured at all, `err`/`error` → stderr only, anything else →
 * all.
 */
export type ServiceLogLevel = 'none' | 'error' | 'all';

export function serviceLogLevel(env: readonly string[]): ServiceLogLevel {
  const value = envValue(env, 'BALENA_LOGS_LEVEL') ?? envValue(env, 'RESIN_LOGS_LEVEL');
  switch ((value ?? '').trim().toLowerCase()) {
    case 'none':
      return 'none';
    case 'err':
    case 'error':
      return 'error';
    default:
      return 'all';
  }
}

function envValue(env: readonly string[], name: string): string | undefined {
  const prefix = `${name}=`;
  const entry = env.find((e) => e.startsWith(prefix));
  return entry?.slice(prefix.length);
}
