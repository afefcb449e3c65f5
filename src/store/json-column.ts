/**
 * JSON stored in TEXT columns is parsed and validated on the way out: a row edited by hand or written
 * by a buggy version surfaces as STORE_ERROR naming the table and column, not as a crash elsewhere.
 */
import type { z } from 'zod';
import { BosunError, errorMessage } from '../shared/errors.js';

export function readJsonColumn<T>(schema: z.ZodType<T>, text: string, where: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BosunError('STORE_ERROR', `${where} holds invalid JSON: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new BosunError(
      'STORE_ERROR',
      `${where} has an unexpected shape${path}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return result.data;
}
