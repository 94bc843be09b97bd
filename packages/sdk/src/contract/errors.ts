/**
 * The one error catalog. Every error the platform raises on purpose is a KilnError with a stable code;
 * the HTTP error handler maps the code to a status and to the response body (native and MLflow shapes).
 */
export const ERROR_CODES = {
  INVALID_PARAMETER_VALUE: { status: 400, mlflowStatus: 400 },
  BAD_REQUEST: { status: 400, mlflowStatus: 400 },
  MALFORMED_REQUEST: { status: 400, mlflowStatus: 400, mlflowCode: 'BAD_REQUEST' },
  RESOURCE_ALREADY_EXISTS: { status: 409, mlflowStatus: 400 },
  UNAUTHENTICATED: { status: 401, mlflowStatus: 401 },
  PERMISSION_DENIED: { status: 403, mlflowStatus: 403 },
  RESOURCE_DOES_NOT_EXIST: { status: 404, mlflowStatus: 404 },
  ENDPOINT_NOT_FOUND: { status: 404, mlflowStatus: 404 },
  INVALID_STATE: { status: 409, mlflowStatus: 400, mlflowCode: 'INVALID_PARAMETER_VALUE' },
  REQUEST_TOO_LARGE: { status: 413, mlflowStatus: 413, mlflowCode: 'INVALID_PARAMETER_VALUE' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, mlflowStatus: 400, mlflowCode: 'BAD_REQUEST' },
  REQUEST_LIMIT_EXCEEDED: { status: 429, mlflowStatus: 429 },
  INTERNAL_ERROR: { status: 500, mlflowStatus: 500 },
  NOT_IMPLEMENTED: { status: 501, mlflowStatus: 501 },
  TEMPORARILY_UNAVAILABLE: { status: 503, mlflowStatus: 503 },
} as const satisfies Record<string, { status: number; mlflowStatus: number; mlflowCode?: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'KilnError';
    this.code = code;
    this.details = details ? Object.freeze({ ...details }) : undefined;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get mlflowStatus(): number {
    return ERROR_CODES[this.code].mlflowStatus;
  }

  /** The error_code MLflow clients know for this error. */
  get mlflowCode(): string {
    const entry = ERROR_CODES[this.code] as { mlflowCode?: string };
    return entry.mlflowCode ?? this.code;
  }
}

export const invalid = (message: string, details?: Record<string, unknown>): KilnError =>
  new KilnError('INVALID_PARAMETER_VALUE', message, details);

export const notFound = (message: string, details?: Record<string, unknown>): KilnError =>
  new KilnError('RESOURCE_DOES_NOT_EXIST', message, details);

export const alreadyExists = (message: string, details?: Record<string, unknown>): KilnError =>
  new KilnError('RESOURCE_ALREADY_EXISTS', message, details);

export function isKilnError(e: unknown): e is KilnError {
  return e instanceof KilnError;
}
