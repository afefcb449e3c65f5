// Module loading hooks for register.mjs (they run on Node's loader thread).
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

let pattern;
let releaseFile;

export function initialize(data) {
  pattern = new RegExp(data.pattern);
  releaseFile = data.releaseFile;
}

export async function load(url, context, nextLoad) {
  while (pattern.test(url) && !existsSync(releaseFile)) await sleep(20);
  return nextLoad(url, context);
}
