/**
 * EngineAdapter.containerLogs for dockerode: inspects the container to learn whether its output is
 * multiplexed (no TTY), then reads `logs?timestamps=1` from `since` and parses it into lines.
 * Kept apart from DockerEngine so the stream handling can be read and tested on its own.
 */
import type Dockerode from 'dockerode';
import { BosunError, errorMessage } from '../shared/errors.js';
import { parseEngineTimestamp, toEngineSince } from '../shared/engine-timestamp.js';
import { parseDockerLogStream } from './docker-log-stream.js';
import type { ContainerLogLine, ContainerLogsOptions } from './port.js';

export async function* dockerContainerLogs(
  docker: Dockerode,
  id: string,
  options: ContainerLogsOptions = {},
): AsyncGenerator<ContainerLogLine> {
  const container = docker.getContainer(id);
  let body: NodeJS.ReadableStream | Buffer;
  let tty: boolean;
  try {
    const info = await container.inspect();
    tty = info.Config.Tty;
    const query = {
      stdout: true,
      stderr: true,
      timestamps: true,
      ...(options.since === undefined
        ? {}
        : { since: toEngineSince(parseEngineTimestamp(options.since)) }),
      ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
    };
    body = options.follow
      ? await container.logs({ ...query, follow: true })
      : await container.logs({ ...query, follow: false });
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
