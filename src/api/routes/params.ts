/** Path parameter parsing shared by v1 and v2 routes. */
import type { Request } from 'express';
import { BosunError } from '../../shared/errors.js';

export function appIdParam(req: Request, message = 'Invalid app id'): number {
  const raw = req.params['appId'];
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) {
    throw new BosunError('VALIDATION_FAILED', `${message}: ${String(raw)}`);
  }
  return Number(raw);
}
