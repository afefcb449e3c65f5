/**
 * Building records from untrusted keys. `obj[key] = v` with key `__proto__` would replace the prototype
 * instead of adding a key (and `__proto__` is a valid env var and label name), so keys are always defined.
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Own-key lookup that never reaches the prototype (`record['constructor']` would otherwise be a function). */
export function getOwn<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
