import { randomBytes } from 'node:crypto';
import type { QueueScripts } from './scripts.js';

/** Letters, digits, '.', '-' only, so the id is safe in a key, a log line and a folder name. */
export function hostPart(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 60) || 'host';
}

export interface IdentityOptions {
  host: string;
  kind: 'cpu' | 'gpu';
  heartbeatTtlMs: number;
  /** The heartbeat value for an id (built fresh at every beat). */
  heartbeat: (workerId: string, token: string) => Promise<string>;
  /** Told when the id had to change because another daemon took it. */
  onChanged: (previous: string, current: string) => void;
}

/**
 * This daemon's worker id, `<host>_cpu<N>` or `<host>_gpu<N>`: the first free slot on the host,
 * claimed atomically and kept alive by the heartbeat. A random token tells this daemon's
 * heartbeat from another's that claimed the same id after ours lapsed.
 */
export class WorkerIdentity {
  readonly token = randomBytes(12).toString('hex');
  private current?: string;
  private reclaiming = false;

  constructor(
    private readonly scripts: QueueScripts,
    private readonly opts: IdentityOptions,
  ) {}

  /** The claimed id; undefined until claim() resolves. */
  get id(): string | undefined {
    return this.current;
  }

  /** Claims the first free slot on this host (SET NX with the heartbeat TTL). */
  async claim(): Promise<string> {
    const host = hostPart(this.opts.host);
    for (let n = 0; n < 10_000; n++) {
      const id = `${host}_${this.opts.kind}${n}`;
      const payload = await this.opts.heartbeat(id, this.token);
      if (await this.scripts.claimId(id, payload, this.opts.heartbeatTtlMs)) {
        this.current = id;
        return id;
      }
    }
    throw new Error(`no free worker slot on ${host}`);
  }

  /** Refreshes the heartbeat; if another daemon took the id meanwhile, claims a free one. */
  async beat(): Promise<void> {
    const id = this.current;
    if (!id || this.reclaiming) return;
    const payload = await this.opts.heartbeat(id, this.token);
    if (await this.scripts.refreshHeartbeat(id, payload, this.opts.heartbeatTtlMs, this.token)) {
      return;
    }
    // Our key lapsed and another daemon took the id: never share it; take a free one.
    this.reclaiming = true;
    try {
      const now = await this.claim();
      this.opts.onChanged(id, now);
    } finally {
      this.reclaiming = false;
    }
  }

  /** Gives the id up, if this daemon still holds it. */
  async release(): Promise<void> {
    if (this.current) await this.scripts.releaseId(this.current, this.token);
  }
}
