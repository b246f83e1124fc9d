/**
 * The typed API client every browser page uses: openapi-fetch over the types generated from the
 * server's OpenAPI document (`openapi.d.ts`), so a call is checked against the document's paths,
 * parameters and bodies at build time. Same origin as the page; the bearer token is added to
 * every request, and a refused token (401) ends the session with the server's reason.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './openapi';

export type Api = Client<paths>;
export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

type JsonOf<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
/** The JSON body of an operation's success answer (200 or 201), for schemas the document does not name. */
export type Answer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? JsonOf<R[200 & keyof R]> | JsonOf<R[201 & keyof R]>
  : never;

/**
 * `channel` labels the activity records of what the page does (`X-CMR-Channel`); the portal's
 * actions are recorded as `portal`, another page may name none.
 */
export function createApi(token: string, onRefused: (reason: string) => void, channel: 'portal' | null = 'portal'): Api {
  const api = createClient<paths>({ baseUrl: location.origin });
  api.use({
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${token}`);
      if (channel) request.headers.set('x-cmr-channel', channel);
      return request;
    },
    async onResponse({ response }) {
      if (response.status === 401) onRefused(await problemDetail(response.clone()));
      return response;
    },
  });
  return api;
}

/** The problem's `detail` (else its title) of an error answer, in words. */
export async function problemDetail(response: Response): Promise<string> {
  try {
    return describeProblem(await response.json(), response.status);
  } catch {
    return `the server answered ${response.status} ${response.statusText}`.trim();
  }
}

export function describeProblem(body: unknown, status?: number): string {
  const problem = body as Partial<Problem> | null;
  if (problem && typeof problem.detail === 'string' && problem.detail) return problem.detail;
  if (problem && typeof problem.title === 'string' && problem.title) return problem.title;
  return status ? `the server answered ${status}` : 'the request failed';
}

/** Thrown by `must` for an error answer: its message is the problem's detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> | null,
  ) {
    super(describeProblem(problem, status));
  }
}

/** The data of a successful answer, or an `ApiError` carrying the problem's detail. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await call;
  } catch {
    throw new Error('the server could not be reached: check the connection and try again');
  }
  if (!answer.response.ok) throw new ApiError(answer.response.status, (answer.error ?? null));
  return answer.data as T;
}

/** A fresh key for one user action, so a repeated request is charged once (`Idempotency-Key`). */
export const idempotencyKey = (): string => crypto.randomUUID();
