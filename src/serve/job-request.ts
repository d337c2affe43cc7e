import { deriveJobId } from '../queue/job.js';
import { parseJobEntry, type JobEntryKey } from '../plan/job-entry.js';
import { ImageInputError, errorMessage } from '../errors.js';

/**
 * What a client may ask for beside the image: the fields of a queue job but `out`, which is the
 * operator's choice (the daemons' --output-roots).
 */
export const SERVE_JOB_KEYS: readonly JobEntryKey[] = ['input', 'id', 'ops', 'options'];
/** The same, for an upload, whose input is the upload itself. */
const UPLOAD_FIELDS = SERVE_JOB_KEYS.filter((k) => k !== 'input');

/** A job ready to queue: its raw JSON and its id. */
export interface RequestedJob {
  raw: string;
  id: string;
  input: string;
}

function badJob(message: string): ImageInputError {
  return new ImageInputError('BAD_JOB', message);
}

/**
 * Query or form fields of an upload (`id`, `ops`, `options` as JSON text), as a job's fields;
 * unknown names are refused with the list of valid ones.
 */
export function uploadFields(fields: Record<string, unknown>): Record<string, unknown> {
  const job: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (!(UPLOAD_FIELDS as readonly string[]).includes(name)) {
      throw badJob(`unknown field "${name}"; valid fields are ${UPLOAD_FIELDS.join(', ')}`);
    }
    if (typeof value !== 'string') throw badJob(`field "${name}" was given more than once`);
    if (name === 'options') {
      try {
        job.options = JSON.parse(value) as unknown;
      } catch (err) {
        throw badJob(
          `"options" must be a JSON object like {"thumbWidth":320}: ${errorMessage(err)}`,
        );
      }
    } else if (value !== '') {
      job[name] = value;
    }
  }
  // Checked now, before any byte of the upload is stored.
  parseJobEntry({ ...job, input: '-' }, SERVE_JOB_KEYS);
  return job;
}

/**
 * A job for `input`, checked by the same rules as every queue job; without an id it gets the
 * one derived from the job's JSON, as `imgproc enqueue` derives it.
 */
export function requestedJob(fields: Record<string, unknown>, input: string): RequestedJob {
  const job = { ...fields, input };
  const entry = parseJobEntry(job, SERVE_JOB_KEYS);
  const id = entry.id ?? deriveJobId(job);
  return { raw: JSON.stringify({ ...job, id, input: entry.input }), id, input: entry.input };
}
