import { UsageError } from '../errors.js';

/** `imgproc --daemon`: replaced by the queue worker's entry point. */
export async function runDaemonFromCli(_opts: Record<string, unknown>): Promise<number> {
  throw new UsageError('--daemon is not available in this build');
}
