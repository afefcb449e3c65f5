/**
 * EngineAdapter.containerLogs over the engine's HTTP API: inspects the container to learn whether its output is
 * multiplexed (no TTY), then reads `logs?timestamps=1` from `since` and parses it into lines.
 * Kept apart from DockerEngine so the stream handling can be read and tested on its own.
 */
import type Dockerode from 'dockerode';
import type { EngineHttp } from './engine-http.js';
import { BosunError, errorMessage } from '../shared/errors.js';
import { parseEngineTimestamp, toEngineSince } from '../shared/engine-timestamp.js';
import { parseDockerLogStream } from './docker-log-stream.js';
import type { ContainerLogLine, ContainerLogsOptions } from './port.js';

export async function* dockerContainerLogs(
  http: EngineHttp,
  id: string,
  options: ContainerLogsOptions = {},
): AsyncGenerator<ContainerLogLine> {
  const path = `/containers/${encodeURIComponent(id)}`;
  let body: NodeJS.ReadableStream | Buffer;
  let tty: boolean;
  try {
    const info = await http.json<Dockerode.ContainerInspectInfo>({
      method: 'GET',
      path: `${path}/json`,
      ok: [200],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    tty = info.Config.Tty;
    body = await http.stream({
      method: 'GET',
      path: `${path}/logs`,
      query: {
        stdout: true,
        stderr: true,
        timestamps: true,
        follow: options.follow === true,
        ...(options.since === undefined
          ? {}
          : { since: toEngineSince(parseEngineTimestamp(options.since)) }),
      },
      ok: [200],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (err) {
    if (options.signal?.aborted) return;
    throw translate(err, id);
  }
  const chunks = Buffer.isBuffer(body) ? [body] : (body as AsyncIterable<Buffer>);
  try {
    yield* parseDockerLogStream(chunks, !tty);
  } catch (err) {
    // An abort or an engine going away mid-stream both end the stream: the caller resumes from its cursor.
    if (options.signal?.aborted) return;
    throw new BosunError(
      'ENGINE_UNREACHABLE',
      `log stream of container ${id} broke: ${errorMessage(err)}`,
      { cause: err },
    );
  } finally {
    if (!Buffer.isBuffer(body))
      (body as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}

function translate(err: unknown, id: string): BosunError {
  if (err instanceof BosunError) return err;
  const statusCode = (err as { statusCode?: unknown }).statusCode;
  if (statusCode === 404)
    return new BosunError('NOT_FOUND', `container ${id} does not exist`, { cause: err });
  if (typeof statusCode === 'number')
    return new BosunError('ENGINE_ERROR', `logs of container ${id}: ${errorMessage(err)}`, {
      cause: err,
    });
  return new BosunError('ENGINE_UNREACHABLE', `logs of container ${id}: ${errorMessage(err)}`, {
    cause: err,
  });
}
