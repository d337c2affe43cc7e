import type { Backend } from '../backends/backend.js';
import type { ImageTask, ProcessResult } from './types.js';

export interface PipelineContext {
  backend: Backend;
}

/** Placeholder signature; the implementation lands next. */
export async function processImage(
  _task: ImageTask,
  _ctx: PipelineContext,
): Promise<ProcessResult> {
  throw new Error('not implemented yet');
}
