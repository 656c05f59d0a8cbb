import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DOWNLOAD_PATH_PREFIX, type ExportOutcome } from '../contract/api';
import type { ExportFormat } from '../contract/messages';
import type { ExportDestination, ExportPlace } from '../host/export-destination';

/**
 * Serve mode's export destination: a page cannot be handed a path, so the worker writes each
 * export into a fresh folder under a private temp folder owned by this server (mkdtemp: mode
 * 0700), and the page gets a one-time URL. A file is removed once served, when nobody fetched it
 * within `ttlMs`, and with the whole folder when the server closes.
 */

/** Ten minutes: time to click a download that did not start, not a place to keep models. */
export const DOWNLOAD_TTL_MS = 10 * 60_000;

// .keras is a zip too, but a browser must not offer to open it as an archive of its own.
const CONTENT_TYPES: Record<ExportFormat, string> = {
  tfjs: 'application/zip',
  keras: 'application/octet-stream',
  onnx: 'application/octet-stream',
};

interface Entry {
  folder: string;
  file: string;
  fileName: string;
  format: ExportFormat;
  bytes: number;
  timer: NodeJS.Timeout;
}

export class DownloadStore implements ExportDestination {
  readonly root: string;
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly ttlMs = DOWNLOAD_TTL_MS) {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'mnist-studio-downloads-'));
    // A second Ctrl-C exits without closing the server: the models still leave the temp folder.
    process.once('exit', this.removeOnExit);
  }

  private readonly removeOnExit = () => remove(this.root);

  /** Downloads waiting to be fetched. */
  get size(): number {
    return this.entries.size;
  }

  choose({ fileName, format }: { fileName: string; format: ExportFormat }): Promise<ExportPlace> {
    if (this.closed) return Promise.reject(new Error('serve mode is shutting down'));
    // A folder per export: two exports of the same name never meet, and removal is one rmSync.
    const folder = mkdtempSync(path.join(this.root, 'export-'));
    const file = path.join(folder, fileName);
    return Promise.resolve({
      path: file,
      overwrite: false,
      done: (bytes): ExportOutcome => {
        if (this.closed) {
          remove(folder);
          throw new Error('serve mode is shutting down');
        }
        // 144 random bits: the URL is a capability, on top of the token every request needs.
        const id = randomBytes(18).toString('base64url');
        const timer = setTimeout(() => this.drop(id), this.ttlMs);
        timer.unref();
        this.entries.set(id, { folder, file, fileName, format, bytes, timer });
        return { status: 'download', url: `${DOWNLOAD_PATH_PREFIX}${id}`, fileName, bytes };
      },
      discard: () => remove(folder),
    });
  }

  /**
   * Answers GET `/downloads/<id>` (the caller has checked the token): the file once, as an
   * attachment, then it is gone; an unknown, expired or already fetched id is a 404.
   */
  send(id: string, res: http.ServerResponse): void {
    const entry = this.entries.get(id);
    if (!entry) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('no such download: it was fetched already, or it expired');
      return;
    }
    this.entries.delete(id);
    clearTimeout(entry.timer);
    const stream = createReadStream(entry.file);
    const cleanUp = () => remove(entry.folder);
    stream.once('open', () => {
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[entry.format],
        'content-length': entry.bytes,
        'content-disposition': contentDisposition(entry.fileName),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
      stream.pipe(res);
    });
    stream.once('error', (error) => {
      cleanUp();
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`the export could not be read: ${error.message}`);
      } else res.destroy(error);
    });
    // Removed however the response ends: sent, or the browser hung up half way (then the file
    // stream would otherwise stay open, waiting for a reader that is gone).
    res.once('close', () => {
      stream.destroy();
      cleanUp();
    });
  }

  /** Removes every file and the folder; later exports are refused. */
  close(): void {
    this.closed = true;
    process.off('exit', this.removeOnExit);
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
    remove(this.root);
  }

  private drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    remove(entry.folder);
  }
}

function remove(folder: string): void {
  rmSync(folder, { recursive: true, force: true });
}

/**
 * RFC 6266: a quoted ASCII name for old clients and the exact name, percent-encoded, in
 * `filename*`. Quotes, backslashes and non-ASCII never reach the quoted form.
 */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const exact = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}
