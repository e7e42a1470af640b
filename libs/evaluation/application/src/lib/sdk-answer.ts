/** What an SDK endpoint answers, independent of the HTTP server that sends it. */
export interface SdkAnswer {
  readonly status: number;
  readonly body: string | Buffer | null;
  readonly headers?: Readonly<Record<string, string | number>>;
  /** The headers are complete (content type, length, CORS): sent as they are. */
  readonly complete?: boolean;
}

/** Headers every SDK answer carries, so browser SDKs can read it (CORS). */
export const SDK_CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'etag, last-modified, x-flagsmith-document-updated-at',
};

/** The answer to a CORS preflight (OPTIONS): what browsers may send. Only preflights need it. */
export const SDK_CORS_PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  ...SDK_CORS_HEADERS,
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers':
    'content-type, x-environment-key, x-api-key, authorization, if-none-match, if-modified-since, flagsmith-application-name, flagsmith-application-version, flagsmith-sdk-user-agent, x-correlation-id',
  'access-control-max-age': '86400',
};

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Payload Too Large' };

/** Errors carry Flagsmith's `detail` plus the platform's error fields. */
export function errorAnswer(status: number, code: string, detail: string, errors?: readonly FieldProblem[]): SdkAnswer {
  return {
    status,
    body: JSON.stringify({ detail, statusCode: status, error: REASONS[status] ?? 'Error', code, message: detail, ...(errors ? { errors } : {}) }),
  };
}

export const jsonAnswer = (status: number, body: string | Buffer, headers?: Readonly<Record<string, string>>): SdkAnswer => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});
