/** What an SDK endpoint answers, independent of the HTTP server that sends it. */
export interface SdkAnswer {
  readonly status: number;
  readonly body: string | Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
}

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

export const jsonAnswer = (status: number, body: string | Buffer, headers?: Record<string, string>): SdkAnswer => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});
