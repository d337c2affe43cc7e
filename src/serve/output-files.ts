import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { errorMessage } from '../errors.js';
import { isStrictlyInside } from '../paths.js';
import { openJobInput } from '../queue/job-files.js';
import type { JobStatus } from '../queue/job-status.js';
import { isObjectUrl, objectAllowed } from '../storage/index.js';
import type { ServeContext } from './context.js';
import { HttpError } from './errors.js';

/** The sidecar fields the job view uses. */
export interface SidecarView {
  source?: unknown;
  outputs?: Record<string, { width?: number; height?: number; bytes?: number } | undefined>;
  gradient?: unknown;
}

/** An output ready to send: its bytes as a stream, and what its headers need. */
export interface OutputFile {
  body: Readable | Buffer;
  bytes: number;
  etag: string;
  lastModified?: Date;
  contentType: string;
}

/** Output names as the sidecar lists them, and the sidecar itself. */
const OUTPUT_NAME = /^(thumb|blur|lq|w\d{1,5}|sidecar)$/;

function noSuchOutput(id: string, name: string): HttpError {
  return new HttpError(404, 'NO_SUCH_OUTPUT', `job "${id}" has no output "${name}"`);
}

/**
 * Where a done job's output is. The status comes from Redis, which any producer may write, so
 * its paths are checked as a job's are: inside the data folder (links followed when opened), or
 * under the s3:// prefixes this server allows.
 */
function locate(ctx: ServeContext, status: JobStatus, name: string): string {
  if (!OUTPUT_NAME.test(name)) throw noSuchOutput(status.id, name);
  const rel = name === 'sidecar' ? status.sidecar : status.outputs?.[name];
  if (typeof rel !== 'string' || typeof status.out !== 'string') {
    throw noSuchOutput(status.id, name);
  }
  if (isObjectUrl(status.out)) {
    const url = `${status.out}/${rel}`;
    if (!objectAllowed(url, ctx.config.allow)) {
      throw new HttpError(
        404,
        'NOT_SERVED',
        `outputs under ${status.out} are not served here (--allow)`,
      );
    }
    return url;
  }
  const abs = resolve(ctx.dataDir, status.out, rel);
  if (!isStrictlyInside(ctx.dataDir, abs)) throw noSuchOutput(status.id, name);
  return abs;
}

function contentTypeOf(location: string): string {
  return location.endsWith('.json') ? 'application/json' : 'image/webp';
}

/** A done job's output, opened; 404 before the job is done or when the file is gone. */
export async function openOutput(
  ctx: ServeContext,
  status: JobStatus,
  name: string,
): Promise<OutputFile> {
  if (status.state !== 'done') {
    throw new HttpError(
      404,
      'NOT_READY',
      `job "${status.id}" is ${status.state}: its outputs appear when it is done`,
    );
  }
  const location = locate(ctx, status, name);
  const contentType = contentTypeOf(location);
  if (isObjectUrl(location)) {
    try {
      const { data, info } = await ctx.storage.readSource(location, async () => {});
      const etag = info.etag ?? `"${data.length.toString(16)}"`;
      return { body: data, bytes: data.length, etag, contentType };
    } catch (err) {
      throw new HttpError(
        502,
        'STORAGE_UNAVAILABLE',
        `cannot read ${location}: ${errorMessage(err)}`,
      );
    }
  }
  // Opened once and checked through the descriptor: a link swapped in meanwhile leads nowhere.
  const opened = await openJobInput(ctx.dataDir, location, name).catch(() => {
    throw noSuchOutput(status.id, name);
  });
  try {
    const st = await stat(opened.path);
    const body = createReadStream(opened.path);
    body.once('close', () => void opened.close());
    return {
      body,
      bytes: st.size,
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      lastModified: st.mtime,
      contentType,
    };
  } catch (err) {
    await opened.close();
    throw err;
  }
}

/** A done job's sidecar, parsed; undefined when it cannot be read (the view then lacks sizes). */
export async function readSidecar(
  ctx: ServeContext,
  status: JobStatus,
): Promise<SidecarView | undefined> {
  try {
    const location = locate(ctx, status, 'sidecar');
    let text: string | undefined;
    if (isObjectUrl(location)) text = await ctx.storage.readText(location);
    else {
      const opened = await openJobInput(ctx.dataDir, location, 'sidecar');
      try {
        text = await readFile(opened.path, 'utf8');
      } finally {
        await opened.close();
      }
    }
    return text === undefined ? undefined : (JSON.parse(text) as SidecarView);
  } catch {
    return undefined;
  }
}
