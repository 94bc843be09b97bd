import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KilnError, isKilnError } from '../errors.js';
import { isPostgresLockNotAvailable, isPostgresStatementTimeout, isPostgresTransient, isSqliteBusy } from '../db/transient.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Error body and status style of a route: the native API, MLflow's, or the Open Inference Protocol's (`{"error": "..."}`). */
    errorStyle?: 'native' | 'mlflow' | 'oip';
  }
}

/** Turns anything thrown into a KilnError: our own, Fastify's 4xx (parsing, validation, limits), or an internal error. */
export function toKilnError(err: unknown): KilnError {
  if (isKilnError(err)) return err;
  const unavailable = databaseUnavailable(err);
  if (unavailable) return unavailable;
  const fe = err as Partial<FastifyError> & { validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>; validationContext?: string };
  if (fe && Array.isArray(fe.validation)) {
    const v = fe.validation[0];
    const where = v?.instancePath ? v.instancePath.replace(/^\//, '').replace(/\//g, '.') : v?.params?.missingProperty ? String(v.params.missingProperty) : '';
    const field = where || (v?.params?.additionalProperty ? String(v.params.additionalProperty) : '');
    let message = v?.message ?? 'is invalid';
    if (v?.params?.missingProperty) message = `Missing value for required parameter '${String(v.params.missingProperty)}'.`;
    else if (v?.params?.additionalProperty) message = `Unknown field '${String(v.params.additionalProperty)}' in ${fe.validationContext ?? 'request'}.`;
    else message = `Invalid value for parameter '${field}' in ${fe.validationContext ?? 'request'}: ${message}.`;
    return new KilnError('INVALID_PARAMETER_VALUE', message, { field, location: fe.validationContext });
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413 || fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new KilnError('REQUEST_TOO_LARGE', 'Request body is too large.');
  }
  if (status === 415 || fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new KilnError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported Content-Type: send application/json.');
  }
  if (fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new KilnError('MALFORMED_REQUEST', 'Request body is empty; send a JSON object.');
  if (fe?.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return new KilnError('MALFORMED_REQUEST', 'Content-Length does not match the body.');
  if (err instanceof SyntaxError || fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new KilnError('MALFORMED_REQUEST', `Malformed JSON body: ${(err as Error).message}`);
  }
  if (status >= 400 && status < 500) return new KilnError('BAD_REQUEST', fe?.message ?? 'Bad request.');
  return new KilnError('INTERNAL_ERROR', 'Internal server error.');
}

/**
 * A database error that says "not now" rather than "never": SQLite busy or locked (another process held the write
 * lock past the busy timeout), a PostgreSQL statement cancelled by statement_timeout, a serialization failure, a
 * deadlock, a lost connection. The client may retry: 503 with Retry-After, not 500.
 */
function databaseUnavailable(err: unknown): KilnError | undefined {
  if (isSqliteBusy(err)) return new KilnError('TEMPORARILY_UNAVAILABLE', 'The database is busy; try again.');
  if (isPostgresStatementTimeout(err)) return new KilnError('TEMPORARILY_UNAVAILABLE', 'The query took longer than the database statement timeout and was cancelled; narrow it or try again.');
  if (isPostgresTransient(err) || isPostgresLockNotAvailable(err)) return new KilnError('TEMPORARILY_UNAVAILABLE', 'The database is temporarily unavailable; try again.');
  return undefined;
}

/** Seconds a client is asked to wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 1;

/** The one error handler: maps codes to status and body (native or MLflow shape); 5xx logged as errors, 4xx as info. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const ke = toKilnError(err);
    const style = req.routeOptions.config?.errorStyle;
    const mlflow = style === 'mlflow';
    const status = mlflow ? ke.mlflowStatus : ke.status;
    if (status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: ke.code, msg: ke.message }, 'request rejected');
    // An error may say how long to wait (details.retry_after_seconds): a full queue, a model still loading, a sign-in limit.
    const retryAfter = ke.details?.retry_after_seconds;
    const wait = typeof retryAfter === 'number' && retryAfter > 0 ? Math.ceil(retryAfter) : undefined;
    if (status === 503) void reply.header('retry-after', String(wait ?? RETRY_AFTER_SECONDS));
    if (status === 429 && wait !== undefined) void reply.header('retry-after', String(wait));
    // Serialized here: a route that had set another content type (a download whose stream failed) still answers JSON.
    void reply.status(status).type('application/json; charset=utf-8').send(JSON.stringify(style === 'oip' ? { error: ke.message } : errorBody(ke, mlflow)));
  });
}

export function errorBody(ke: KilnError, mlflow: boolean): Record<string, unknown> {
  return mlflow
    ? { error_code: ke.mlflowCode, message: ke.message }
    : { error_code: ke.code, message: ke.message, ...(ke.details ? { details: ke.details } : {}) };
}
