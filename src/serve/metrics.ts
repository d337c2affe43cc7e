import { Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the HTTP front, in their own registry. */
export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'imgproc_http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'imgproc_http_request_duration_seconds',
    help: 'Time from a request to its answer, by route and method (long polls included)',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly uploadBytes = new Counter({
    name: 'imgproc_upload_bytes_total',
    help: 'Bytes of uploads stored and queued',
    registers: [this.registry],
  });
  readonly jobsQueued = new Counter({
    name: 'imgproc_http_jobs_queued_total',
    help: 'Jobs queued through the HTTP front',
    registers: [this.registry],
  });
}
