import { lstat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { ImageInputError, errorMessage } from '../errors.js';
import { resolveInside } from '../queue/job.js';
import { enqueueJobs, idBoundTo } from '../queue/producer.js';
import { isObjectUrl, objectAllowed } from '../storage/index.js';
import { jobPath, type ServeContext } from './context.js';
import { HttpError, fromQueue } from './errors.js';
import { requestedJob, uploadFields, type RequestedJob } from './job-request.js';
import { tooLarge } from './upload-meter.js';
import type { ReceivedUpload } from './upload-store.js';

/** The answer to an accepted job: 202, its id, its state and where to follow it. */
export interface Accepted {
  id: string;
  state: 'queued';
  input: string;
  upload?: { bytes: number; sha256: string; format: string };
  links: { self: string; wait: string };
}

/** Multipart overhead allowed beyond --max-upload: boundaries, part headers, small fields. */
const MULTIPART_SLACK = 256 * 1024;

function declaredLength(req: FastifyRequest): number | undefined {
  const v = req.headers['content-length'];
  return v === undefined ? undefined : Number(v);
}

function idConflict(job: RequestedJob, boundTo: string): HttpError {
  return new HttpError(
    409,
    'ID_CONFLICT',
    `id "${job.id}" belongs to another input ("${boundTo}"): give each image its own id, or leave "id" out to have one derived from the job`,
  );
}

/** Queues a checked job; a conflicting id is a 409 and queues nothing. */
async function queue(ctx: ServeContext, job: RequestedJob): Promise<void> {
  const { conflicts } = await fromQueue(
    enqueueJobs(ctx.redis, ctx.keys, [job], ctx.config.statusTtlMs, 'refuse'),
  );
  if (conflicts[0]) throw idConflict(job, conflicts[0].boundTo);
}

function accepted(job: RequestedJob, upload?: ReceivedUpload): Accepted {
  const self = jobPath(job.id);
  return {
    id: job.id,
    state: 'queued',
    input: job.input,
    upload: upload && { bytes: upload.bytes, sha256: upload.sha256, format: upload.format },
    links: { self, wait: `${self}?wait=30` },
  };
}

/**
 * Queues the job of an upload received whole. What can refuse it is checked while the upload
 * still has only this request's temporary name (a refusal then stores nothing); once it has its
 * content's name it is never removed, since an identical upload at the same moment may be queued
 * on it. The caller releases the temporary name in every case.
 */
async function queueUpload(
  ctx: ServeContext,
  fields: Record<string, unknown>,
  received: ReceivedUpload,
): Promise<Accepted> {
  const job = requestedJob(uploadFields(fields), received.input);
  const boundTo = await fromQueue(idBoundTo(ctx.redis, ctx.keys, job.id, job.input));
  if (boundTo !== undefined) throw idConflict(job, boundTo);
  await ctx.uploads.keep(received);
  await queue(ctx, job);
  ctx.metrics.uploadBytes.inc(received.bytes);
  return accepted(job, received);
}

/** `Content-Type: image/*` (or application/octet-stream): the body is the image. */
export async function submitRaw(ctx: ServeContext, req: FastifyRequest): Promise<Accepted> {
  const fields = uploadFields(req.query as Record<string, unknown>);
  const max = ctx.config.maxUploadBytes;
  const declaredBytes = declaredLength(req);
  if ((declaredBytes ?? 0) > max) throw tooLarge(max);
  const received = await ctx.uploads.receive(req.body as Readable, {
    maxBytes: max,
    timeoutMs: ctx.config.uploadTimeoutMs,
    declaredBytes,
  });
  try {
    return await queueUpload(ctx, fields, received);
  } finally {
    await ctx.uploads.release(received);
  }
}

/** multipart/form-data: one file part, and `id`, `ops`, `options` fields before or after it. */
export async function submitMultipart(ctx: ServeContext, req: FastifyRequest): Promise<Accepted> {
  const max = ctx.config.maxUploadBytes;
  if ((declaredLength(req) ?? 0) > max + MULTIPART_SLACK) throw tooLarge(max);
  const query = req.query as Record<string, unknown>;
  const fields: Record<string, unknown> = { ...query };
  let received: ReceivedUpload | undefined;
  try {
    const parts = req.parts({
      limits: { fileSize: max, files: 1, fields: 8, fieldSize: 64 * 1024, parts: 9 },
    });
    for await (const part of parts) {
      if (part.type === 'file') {
        received = await ctx.uploads.receive(part.file, {
          maxBytes: max,
          timeoutMs: ctx.config.uploadTimeoutMs,
        });
      } else {
        const name = part.fieldname;
        fields[name] = name in fields ? [fields[name], part.value] : String(part.value);
      }
    }
    if (!received) {
      throw new HttpError(400, 'NO_FILE', 'the form holds no file: add the image as a file field');
    }
    return await queueUpload(ctx, fields, received);
  } finally {
    if (received) await ctx.uploads.release(received);
  }
}

/** `{"input": "uploads/a.jpg"}` or an allowed s3:// URL: an image already in storage. */
export async function submitNamed(ctx: ServeContext, req: FastifyRequest): Promise<Accepted> {
  if (Object.keys(req.query as object).length) {
    throw new HttpError(400, 'BAD_JOB', 'a JSON job takes its fields in the body, not the query');
  }
  const body = req.body as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ImageInputError('BAD_JOB', 'expected a JSON object like {"input": "uploads/a.jpg"}');
  }
  const { input, ...fields } = body;
  const job = requestedJob(fields, input as string);
  await checkInput(ctx, job.input);
  await queue(ctx, job);
  return accepted(job);
}

/** The input must be where the daemons may read it, and exist now. */
async function checkInput(ctx: ServeContext, input: string): Promise<void> {
  if (isObjectUrl(input)) {
    if (!objectAllowed(input, ctx.config.allow)) {
      throw new ImageInputError(
        'UNSAFE_PATH',
        `input "${input}" is outside the allowed object locations`,
        ctx.config.allow.length
          ? `name objects under ${ctx.config.allow.join(', ')}`
          : 'this server allows no s3:// inputs (--allow)',
      );
    }
    try {
      await ctx.storage.statSource(input);
    } catch (err) {
      if (err instanceof ImageInputError) throw notFound(input, err.message);
      throw new HttpError(
        502,
        'STORAGE_UNAVAILABLE',
        `cannot check ${input}: ${errorMessage(err)}`,
      );
    }
    return;
  }
  const path = await resolveInside(ctx.dataDir, input, 'input');
  const st = await lstat(path).catch(() => undefined);
  if (!st) throw notFound(input, 'file not found');
  if (!st.isFile() && !st.isSymbolicLink()) {
    throw new HttpError(400, 'NOT_A_FILE', `input "${input}" is not a file`);
  }
}

function notFound(input: string, why: string): HttpError {
  return new HttpError(400, 'INPUT_NOT_FOUND', `input "${input}": ${why}`);
}
