import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { errorMessage } from '../errors.js';

/** What the metrics endpoint asks the queue for when it is scraped. */
export interface QueueDepthSource {
  depths(): Promise<Record<string, number>>;
  healthy(): boolean;
  workerId(): string | undefined;
}

/** Prometheus metrics of one daemon, in their own registry. */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly done = new Counter({
    name: 'imgproc_jobs_done_total',
    help: 'Jobs processed successfully',
    registers: [this.registry],
  });
  readonly failed = new Counter({
    name: 'imgproc_jobs_failed_total',
    help: 'Jobs dead-lettered, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly retried = new Counter({
    name: 'imgproc_jobs_retried_total',
    help: 'Transient failures scheduled for a retry',
    registers: [this.registry],
  });
  readonly recovered = new Counter({
    name: 'imgproc_jobs_recovered_total',
    help: 'Jobs taken back from workers whose heartbeat expired',
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'imgproc_job_duration_seconds',
    help: 'Time to process one job, fetch to result',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'imgproc_jobs_in_flight',
    help: 'Jobs this daemon is processing now',
    registers: [this.registry],
  });
  readonly backend = new Gauge({
    name: 'imgproc_backend_info',
    help: 'The backend this daemon runs on (value 1)',
    labelNames: ['backend', 'device', 'worker'] as const,
    registers: [this.registry],
  });

  constructor(source?: QueueDepthSource) {
    new Gauge({
      name: 'imgproc_queue_depth',
      help: 'Jobs in each queue list when scraped',
      labelNames: ['list'] as const,
      registers: [this.registry],
      async collect() {
        if (!source || !source.healthy()) return;
        try {
          for (const [list, n] of Object.entries(await source.depths())) this.set({ list }, n);
        } catch {
          // A scrape during an outage reports no depth rather than failing the whole scrape.
        }
      },
    });
  }
}

/** Serves GET /metrics (Prometheus text) and GET /health (200 when Redis is connected, else 503). */
export async function serveMetrics(
  metrics: DaemonMetrics,
  source: QueueDepthSource,
  port: number,
  host = '127.0.0.1',
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(errorMessage(err)),
      );
    } else if (path === '/health') {
      const ok = source.healthy();
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ status: ok ? 'ok' : 'redis unavailable', worker: source.workerId() }),
        );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
