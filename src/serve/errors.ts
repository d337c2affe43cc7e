import { ImageInputError, errorMessage } from '../errors.js';

/** An error meant for the client: its HTTP status, a stable code and a message in words. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The one shape of every error body: `{"error": "...", "code": "..."}`. */
export interface ErrorBody {
  error: string;
  code: string;
}

/** Codes for the errors that fastify and its multipart plugin raise themselves. */
export const MEDIA_TYPES =
  'send the image as the body with Content-Type image/* (or application/octet-stream), as multipart/form-data, or a JSON job naming an input';

const FRAMEWORK_CODES: Record<string, [number, string, string?]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE', MEDIA_TYPES],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'BAD_JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_CONTENT_LENGTH'],
  FST_REQ_FILE_TOO_LARGE: [413, 'UPLOAD_TOO_LARGE'],
  FST_FILES_LIMIT: [400, 'TOO_MANY_FILES'],
  FST_FIELDS_LIMIT: [400, 'TOO_MANY_FIELDS'],
  FST_PARTS_LIMIT: [400, 'TOO_MANY_PARTS'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  FST_ERR_HANDLER_TIMEOUT: [503, 'REQUEST_TIMEOUT'],
};

/** Status codes of the input errors a request can cause before anything is queued. */
const INPUT_STATUS: Partial<Record<string, number>> = {
  UNSAFE_PATH: 403,
  ID_CONFLICT: 409,
};

/** Any error as an HTTP status, headers and a JSON body; unexpected ones are 500s. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ImageInputError) {
    const status = INPUT_STATUS[err.code] ?? 400;
    const hint = err.hint ? ` (${err.hint})` : '';
    return new HttpError(status, err.code, `${err.message}${hint}`);
  }
  const e = err as { code?: unknown; statusCode?: unknown };
  const known = typeof e.code === 'string' ? FRAMEWORK_CODES[e.code] : undefined;
  if (known) return new HttpError(known[0], known[1], known[2] ?? errorMessage(err));
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new HttpError(400, 'BAD_JSON', `the body is not valid JSON: ${errorMessage(err)}`);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = typeof e.code === 'string' ? e.code.replace(/^FST_(ERR_)?/, '') : 'BAD_REQUEST';
    return new HttpError(e.statusCode, code, errorMessage(err));
  }
  return new HttpError(500, 'INTERNAL', 'internal error: see the server log');
}

export function errorBody(err: HttpError): ErrorBody {
  return { error: err.message, code: err.code };
}

/** A Redis call that fails (Redis down) is a 503 the client may retry, not a 500. */
export async function fromQueue<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw new HttpError(
      503,
      'QUEUE_UNAVAILABLE',
      `the job queue (Redis) cannot be reached: ${errorMessage(err)}; retry later`,
      { 'retry-after': '5' },
    );
  }
}
