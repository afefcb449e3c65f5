export { parseLocalTarget, parseTarget, parseTargetDevice } from './parse-target.js';
export type { ParsedTarget } from './parse-target.js';
export type { TargetDeviceDoc } from './v3-schema.js';
export type { NormaliseContext } from '../context.js';
