import { Redis, type RedisOptions } from 'ioredis';
import { QueueError } from './protocol';

/**
 * The Redis a sweep and its workers share, from a `redis://[user:password@]host[:port][/db]`
 * URL (`rediss://` for TLS). Checked before anything connects, so a typo is a usage error, and
 * reached once with short timeouts before BullMQ gets it, so a Redis that is not there is one
 * clear line instead of BullMQ reconnecting forever.
 */

export class QueueUrlError extends QueueError {
  override name = 'QueueUrlError';
}

export interface QueueTarget {
  /** The URL without its password, for messages and logs. */
  display: string;
  options: RedisOptions;
}

const DEFAULT_PORT = 6379;

export function parseQueueUrl(text: string): QueueTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QueueUrlError(
      `--queue must be a Redis URL like redis://HOST:6379, not ${JSON.stringify(text)}`,
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new QueueUrlError(
      `--queue must start with redis:// or rediss://, not ${JSON.stringify(`${url.protocol}//`)}`,
    );
  // URL keeps IPv6 hosts in brackets; ioredis wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new QueueUrlError('--queue needs a host: redis://HOST:PORT');
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new QueueUrlError(`--queue: port must be 1-65535, not ${url.port}`);
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText))
    throw new QueueUrlError(
      `--queue: the path is a database number (redis://HOST:PORT/0), not ${JSON.stringify(url.pathname)}`,
    );
  if (url.search !== '' || url.hash !== '')
    throw new QueueUrlError('--queue takes no query string or fragment');
  const options: RedisOptions = {
    host,
    port,
    ...(dbText === '' ? {} : { db: Number(dbText) }),
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
  };
  const auth = url.username !== '' || url.password !== '' ? `${url.username || ''}:***@` : '';
  const display = `${url.protocol}//${auth}${url.host}${dbText === '' ? '' : `/${dbText}`}`;
  return { display, options };
}

/** How long the first connection may take before the sweep or worker gives up (exit 1). */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects once, without retries, and pings. BullMQ's own connections retry for ever (right for
 * a worker whose Redis restarts), so without this an unreachable host would hang the CLI.
 */
export async function checkRedis(
  target: QueueTarget,
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<void> {
  const client = new Redis({
    ...target.options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis also emits errors as events; the awaited calls below report them.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    throw new QueueError(
      `cannot reach Redis at ${target.display}: ${(error as Error).message || String(error)}` +
        ' (is redis-server running there, and reachable from this machine?)',
    );
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/**
 * Options for BullMQ's long-lived connections. Workers and QueueEvents block on Redis and need
 * maxRetriesPerRequest null (BullMQ says so); a reconnect backs off to 2 s, so a Redis restart
 * costs a worker seconds, not its jobs.
 */
export function bullConnection(target: QueueTarget): RedisOptions {
  return {
    ...target.options,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
}
