/**
 * config.json on disk: read and validated once, identity generated when missing, every change
 * written atomically. Any problem leaves the file exactly as it was and raises CONFIG_INVALID or
 * CONFIG_UNWRITABLE naming the file (and the field). Only this object writes the file, so its
 * in-memory value is the truth after open.
 */
import { nodeCrypto } from '../shared/node-crypto.js';
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { BosunError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { writeFileAtomic } from './atomic-write.js';
import {
  configJsonSchema,
  type ConfigJson,
  type ConfigJsonChanges,
  type ConfigJsonWithIdentity,
} from './config-json-schema.js';
import { deepFreeze } from './deep-freeze.js';

/** config.json holds the device API key: readable by root only when bosun creates it. */
const NEW_FILE_MODE = 0o600;
const WRITE_BITS = 0o222;

/** 32 hex chars, the format balena uses for device uuids and keys (a UUIDv4's entropy). */
export function generateHexId(): string {
  return nodeCrypto().randomBytes(16).toString('hex');
}

function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : `${out}.${String(key)}`),
    '$',
  );
}

function invalid(path: string, issues: readonly z.core.$ZodIssue[]): BosunError {
  const fields = issues.map((issue) => ({ field: jsonPath(issue.path), message: issue.message }));
  const listed = fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return new BosunError('CONFIG_INVALID', `${path}: invalid field ${listed}`, {
    details: { path, fields },
  });
}

function parseConfigJson(path: string, text: string): ConfigJson {
  if (text.trim() === '') {
    // Never treated as {}: that would silently give the device a new identity. bosun's own writes
    // are atomic, so an empty file was made by someone else.
    throw new BosunError(
      'CONFIG_INVALID',
      `${path} is empty; write {} into it to start from scratch`,
      {
        details: { path },
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BosunError('CONFIG_INVALID', `${path} is not valid JSON: ${errorMessage(err)}`, {
      cause: err,
      details: { path },
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BosunError(
      'CONFIG_INVALID',
      `${path} must hold a JSON object ($ is ${Array.isArray(parsed) ? 'an array' : typeof parsed})`,
      {
        details: { path },
      },
    );
  }
  const result = configJsonSchema.safeParse(parsed);
  if (!result.success) throw invalid(path, result.error.issues);
  return result.data;
}

function hasIdentity(value: ConfigJson): value is ConfigJsonWithIdentity {
  return (
    typeof value.uuid === 'string' &&
    value.uuid !== '' &&
    typeof value.deviceApiKey === 'string' &&
    value.deviceApiKey !== ''
  );
}

async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o7777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class ConfigJsonFile {
  /** Serialises writes: each waits for the previous one. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The path as configured (for messages). */
    readonly path: string,
    /** Where writes go: the symlink's target when config.json is a symlink, so the link survives. */
    private readonly realPath: string,
    private current: ConfigJsonWithIdentity,
    private readonly logger: Logger,
  ) {}

  /**
   * Reads config.json, creating it (as {} plus identity) when missing, and generating `uuid` and
   * `deviceApiKey` when absent or empty.
   */
  static async open(path: string, logger: Logger): Promise<ConfigJsonFile> {
    const log = logger.child({ component: 'config-json' });
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new BosunError('CONFIG_INVALID', `cannot read ${path}: ${errorMessage(err)}`, {
          cause: err,
          details: { path },
        });
      }
    }
    const realPath = text === undefined ? path : await realpath(path);
    const value = text === undefined ? {} : parseConfigJson(path, text);
    if (hasIdentity(value)) return new ConfigJsonFile(path, realPath, deepFreeze(value), log);

    const generated: string[] = [];
    const draft = { ...value };
    if (!draft.uuid) {
      draft.uuid = generateHexId();
      generated.push('uuid');
    }
    if (!draft.deviceApiKey) {
      draft.deviceApiKey = generateHexId();
      generated.push('deviceApiKey');
    }
    const withIdentity = draft as ConfigJsonWithIdentity;
    if (text === undefined) {
      try {
        await mkdir(dirname(path), { recursive: true });
      } catch (err) {
        throw new BosunError('CONFIG_UNWRITABLE', `cannot create ${path}: ${errorMessage(err)}`, {
          cause: err,
          details: { path },
        });
      }
    }
    // If write() fails, this object is dropped with the error: nobody sees an identity that is not on disk.
    const file = new ConfigJsonFile(path, realPath, deepFreeze(structuredClone(withIdentity)), log);
    await file.write(withIdentity);
    log.info(text === undefined ? 'config-json.created' : 'config-json.identity-generated', {
      path,
      generated,
    });
    return file;
  }

  /** The current content, deeply frozen. */
  get value(): ConfigJsonWithIdentity {
    return this.current;
  }

  /**
   * Applies changes to known fields (null deletes a key), keeping every other key, and writes the
   * file atomically. Resolves with the new value; on failure the file and the value are unchanged.
   */
  update(changes: ConfigJsonChanges): Promise<ConfigJsonWithIdentity> {
    const next = this.writing.then(async () => {
      const merged: Record<string, unknown> = { ...this.current };
      for (const [key, change] of Object.entries(changes)) {
        if (change === null) delete merged[key];
        else if (change !== undefined) merged[key] = change;
      }
      const result = configJsonSchema.safeParse(merged);
      if (!result.success) throw invalid(this.path, result.error.issues);
      if (!hasIdentity(result.data)) {
        throw new BosunError(
          'CONFIG_INVALID',
          `${this.path}: uuid and deviceApiKey cannot be removed`,
          {
            details: { path: this.path },
          },
        );
      }
      await this.write(result.data);
      return this.current;
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(value: ConfigJsonWithIdentity): Promise<void> {
    const fileMode = await this.checkWritable();
    try {
      // Compact, like balena's own writes; the OS reads it with any JSON parser.
      await writeFileAtomic(this.realPath, JSON.stringify(value), fileMode ?? NEW_FILE_MODE);
    } catch (err) {
      throw new BosunError('CONFIG_UNWRITABLE', `cannot write ${this.path}: ${errorMessage(err)}`, {
        cause: err,
        details: { path: this.path },
      });
    }
    this.current = deepFreeze(structuredClone(value));
    this.logger.debug('config-json.written', { path: this.path });
  }

  /**
   * bosun runs as root, and root may write anything, so a read-only config.json or directory would
   * be overwritten without this check: no write bit means the operator wants it left alone.
   * Resolves with the existing file's mode (kept on rewrite), undefined when the file is new.
   */
  private async checkWritable(): Promise<number | undefined> {
    const unwritable = (what: string, mode: number): BosunError =>
      new BosunError(
        'CONFIG_UNWRITABLE',
        `cannot write ${this.path}: ${what} is read-only (mode ${mode.toString(8).padStart(4, '0')})`,
        {
          details: { path: this.path },
        },
      );
    let fileMode: number | undefined;
    let dirMode: number | undefined;
    try {
      fileMode = await modeOf(this.realPath);
      dirMode = await modeOf(dirname(this.realPath));
    } catch (err) {
      throw new BosunError('CONFIG_UNWRITABLE', `cannot write ${this.path}: ${errorMessage(err)}`, {
        cause: err,
        details: { path: this.path },
      });
    }
    if (fileMode !== undefined && (fileMode & WRITE_BITS) === 0)
      throw unwritable('the file', fileMode);
    if (dirMode !== undefined && (dirMode & WRITE_BITS) === 0)
      throw unwritable(`its directory ${dirname(this.realPath)}`, dirMode);
    return fileMode;
  }
}
