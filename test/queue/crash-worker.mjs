// A worker process whose handler kills it outright (SIGKILL) on the job named "poison":
// the real crash a job can cause, for the crash-cap test. Built modules, like the CLI uses.
import { createLogger } from '../../dist/queue/logger.js';
import { queueKeys } from '../../dist/queue/keys.js';
import { QueueWorker } from '../../dist/queue/worker.js';

const [url, prefix] = process.argv.slice(2);
const worker = new QueueWorker({
  redisUrl: url,
  keys: queueKeys({ prefix }),
  host: 'crashhost',
  backend: { name: 'cpu', description: 'test' },
  log: createLogger({ format: 'json' }),
  maxCrashes: 2,
  heartbeatIntervalMs: 100,
  heartbeatTtlMs: 400,
  reapIntervalMs: 100,
  blockTimeoutS: 0.2,
  handler: async (raw) => {
    const job = JSON.parse(raw);
    if (job.id === 'poison') process.kill(process.pid, 'SIGKILL');
    return { id: job.id };
  },
});
await worker.start();
process.on('SIGTERM', () => worker.stop().then(() => process.exit(0)));
