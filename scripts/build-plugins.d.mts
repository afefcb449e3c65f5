// Types of scripts/build-plugins.mjs, for the tests that build with its plugins.
import type { Plugin } from 'esbuild';

export declare const zodEnglishOnly: Plugin;
export declare const lazyMimeTypes: Plugin;
