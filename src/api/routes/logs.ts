/**
 * Read-back of the log spool: the recent lines of one service, or of the system, filterable by time.
 * The logs module answers the query (src/logs/recent-logs.ts); this file only validates and documents.
 */
import * as z from 'zod';
import { lazy, type Built } from '../../shared/lazy.js';
import { BosunError } from '../../shared/errors.js';
import { defineRoute, sendJson, type RouteDef } from '../route.js';
import { LogLineSchema } from '../schemas.js';

/** Epoch milliseconds, or an ISO 8601 date-time. */
const Instant = lazy(() =>
  z
    .string()
    .refine((v) => /^\d+$/.test(v) || !Number.isNaN(Date.parse(v)), {
      message: 'must be epoch milliseconds or an ISO 8601 date-time',
    })
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v))),
);

export const RecentLogsQuerySchema = lazy(() =>
  z.object({
    service: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe('Service name; without it, the system lines (what bosun itself did).'),
    since: Instant().optional().describe('Only lines at or after this time.'),
    until: Instant().optional().describe('Only lines at or before this time.'),
    limit: z
      .string()
      .regex(/^\d+$/, 'must be a positive integer')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 10_000, { message: 'must be between 1 and 10000' })
      .optional()
      .describe('At most this many lines, the newest ones (default 1000, at most 10000).'),
  }),
);

export const RecentLogsResponse = lazy(() =>
  z.object({
    status: z.literal('success'),
    lines: z.array(LogLineSchema()),
  }),
);

export type RecentLogsHandler = (query: {
  service?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  limit?: number | undefined;
}) => z.input<Built<typeof LogLineSchema>>[];

export function logRoutes(recentLogs: RecentLogsHandler | undefined): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v2/logs/recent',
      tag: 'v2',
      summary:
        'Recent log lines of one service or of the system, oldest first, from the on-device log spool (also lines not yet shipped, and from before a restart).',
      auth: 'key',
      query: RecentLogsQuerySchema,
      responses: {
        200: { description: 'The lines, oldest first', schema: RecentLogsResponse },
        400: { description: 'A query parameter is invalid (message names it)' },
      },
      handler: ({ res, query }) => {
        if (recentLogs === undefined)
          throw new BosunError('NOT_READY', 'The log spool is not available yet');
        sendJson(res, 200, { status: 'success', lines: recentLogs(query) });
      },
    }),
  ];
}
