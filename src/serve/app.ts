import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServeContext } from './context.js';
import { errorBody, HttpError, MEDIA_TYPES, toHttpError } from './errors.js';
import { health } from './health.js';
import { checkedId, jobStatusOf, jobView, waitForFinal, waitMsOf } from './job-view.js';
import { openOutput } from './output-files.js';
import { PAGE_CSP, PAGE_HTML, PAGE_SCRIPT } from './page.js';
import { submitMultipart, submitNamed, submitRaw } from './submit.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs a bearer token when tokens are configured. */
    auth?: boolean;
  }
}

/** Routes that answer even without a token: the page (it asks for one) and the health check. */
const open = { config: { auth: false } };
const guarded = { config: { auth: true } };

/** Logs a server-side failure; the client gets only its code. */
export type ServeLog = (line: string) => void;

/** The HTTP front: routes, auth, limits and one JSON error shape. */
export async function buildApp(ctx: ServeContext, log: ServeLog): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    logger: false,
    // JSON bodies only: uploads are streamed by their own parsers and capped by --max-upload.
    bodyLimit: 64 * 1024,
    handlerTimeout: config.requestTimeoutMs,
    // A backstop behind the upload's own time limit, which answers with a JSON 408 first.
    requestTimeout: config.uploadTimeoutMs + config.requestTimeoutMs,
    keepAliveTimeout: 5000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 256 },
  });
  app.server.headersTimeout = config.requestTimeoutMs;

  app.removeContentTypeParser('text/plain');
  const passThrough = (
    _req: FastifyRequest,
    payload: unknown,
    done: (e: null, b: unknown) => void,
  ) => done(null, payload);
  app.addContentTypeParser(/^image\/[\w.+-]+$/i, passThrough);
  app.addContentTypeParser('application/octet-stream', passThrough);
  await app.register(multipart, { throwFileSizeLimit: true });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (req.routeOptions.config.auth !== false) ctx.tokens.check(req.headers.authorization);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { route, method: req.method };
    ctx.metrics.requests.inc({ ...labels, status: String(reply.statusCode) });
    ctx.metrics.duration.observe(labels, reply.elapsedTime / 1000);
  });
  app.setErrorHandler(async (err, req, reply) => {
    const http = toHttpError(err);
    if (http.status >= 500 && http.code !== 'QUEUE_UNAVAILABLE') {
      log(
        `${req.method} ${req.url}: ${http.code}: ${err instanceof Error ? err.stack : String(err)}`,
      );
    }
    // A refused upload is not read further: the connection closes after the answer.
    if (req.method === 'POST' && [401, 408, 413, 415].includes(http.status)) {
      reply.header('connection', 'close');
    }
    return reply.code(http.status).headers(http.headers).send(errorBody(http));
  });
  app.setNotFoundHandler(async (req, reply) => {
    ctx.tokens.check(req.headers.authorization);
    const err = new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    return reply.code(404).send(errorBody(err));
  });

  app.get('/', open, async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_CSP)
      .send(PAGE_HTML),
  );
  app.get('/app.js', open, async (_req, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(PAGE_SCRIPT),
  );
  // Browsers ask for it; an empty answer keeps the page's console clean.
  app.get('/favicon.ico', open, async (_req, reply) => reply.code(204).send());
  app.get('/health', open, async (_req, reply) => {
    const h = await health(ctx);
    return reply.code(h.redis ? 200 : 503).send(h);
  });
  app.get('/metrics', guarded, async (_req, reply) =>
    reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
  );

  app.post(
    '/v1/jobs',
    { ...guarded, handlerTimeout: config.uploadTimeoutMs + config.requestTimeoutMs },
    async (req, reply) => {
      const type = String(req.headers['content-type'] ?? '').toLowerCase();
      const accepted = type.startsWith('application/json')
        ? await submitNamed(ctx, req)
        : type.startsWith('multipart/form-data')
          ? await submitMultipart(ctx, req)
          : /^(image\/|application\/octet-stream)/.test(type)
            ? await submitRaw(ctx, req)
            : unsupported();
      ctx.metrics.jobsQueued.inc();
      return reply.code(202).header('location', accepted.links.self).send(accepted);
    },
  );

  app.get(
    '/v1/jobs/:id',
    { ...guarded, handlerTimeout: config.maxWaitMs + config.requestTimeoutMs },
    async (req, reply) => {
      const id = checkedId((req.params as { id: string }).id);
      const waitMs = waitMsOf(req.query as Record<string, unknown>, config.maxWaitMs);
      const status = waitMs
        ? await waitForFinal(ctx, id, waitMs, () => req.signal.aborted)
        : await jobStatusOf(ctx, id);
      return reply.header('cache-control', 'no-store').send(await jobView(ctx, status));
    },
  );

  app.get('/v1/jobs/:id/outputs/:name', guarded, async (req, reply) => sendOutput(ctx, req, reply));
  return app;
}

function unsupported(): never {
  throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', MEDIA_TYPES);
}

async function sendOutput(ctx: ServeContext, req: FastifyRequest, reply: FastifyReply) {
  const { id, name } = req.params as { id: string; name: string };
  const status = await jobStatusOf(ctx, checkedId(id));
  const file = await openOutput(ctx, status, name);
  reply
    .header('etag', file.etag)
    .header('cache-control', ctx.config.outputCacheControl)
    .type(file.contentType);
  if (file.lastModified) reply.header('last-modified', file.lastModified.toUTCString());
  const match = req.headers['if-none-match'];
  if (match && match.split(',').some((t) => t.trim() === file.etag || t.trim() === '*')) {
    if ('destroy' in file.body) file.body.destroy();
    return reply.code(304).send();
  }
  return reply.header('content-length', file.bytes).send(file.body);
}
