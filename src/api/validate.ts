/** Runs a zod schema over request input and turns failures into VALIDATION_FAILED naming the JSON path. */
import type { z } from 'zod';
import { reasonOf } from '../domain/zod-issues.js';
import { BosunError } from '../shared/errors.js';

export function formatIssues(where: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = [where, ...issue.path.map(String)].join('.');
      return `${path}: ${reasonOf(issue)}`;
    })
    .join('; ');
}

export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: 'body' | 'query',
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new BosunError(
      'VALIDATION_FAILED',
      `Invalid request ${where}: ${formatIssues(where, result.error.issues)}`,
      {
        details: {
          issues: result.error.issues.map((i) => ({
            path: i.path.map(String),
            message: reasonOf(i),
          })),
        },
      },
    );
  }
  return result.data;
}
