/**
 * A value built on first use and kept. For module-level zod schemas: each one is an object graph
 * (internals, a Set of traits, closures) that the idle agent would otherwise keep from start for
 * requests it may never get, and building ~900 of them at load is what makes zod's constructor hot
 * enough for the optimizing compiler during start. See BENCHMARKS.md, "Schemas on first use".
 */

/** A getter that builds its value on the first call and returns that same value after. */
export type Lazy<T> = () => T;

/** The value a `Lazy` getter returns (e.g. `z.output<Built<typeof ForceBody>>`). */
export type Built<L extends Lazy<unknown>> = ReturnType<L>;

export function lazy<T>(build: () => T): Lazy<T> {
  let built = false;
  let value: T | undefined;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}
