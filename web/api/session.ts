/**
 * Signing a browser page in with a bearer token (shared by every page: the portal, the handset).
 * The token comes from the sign-in field or a link `…/#token=<JWT>`, is checked by the server
 * (`GET /v1/me`, which also says who it names, whatever issued it), and is kept in this tab's
 * session storage only. The session ends at the token's expiry or when the server refuses it,
 * with the reason in words for the sign-in page.
 */
import createClient from 'openapi-fetch';
import { describeProblem, type Answer } from './client';
import type { paths } from './openapi';

export type Who = Answer<'/v1/me', 'get'>;

export interface Session {
  token: string;
  who: Who;
}

const STORAGE_KEY = 'cmr.access-token';
const LINK_PARAMETER = 'token';

/** The token of a sign-in link (`#token=…`), removed from the address bar so it is not bookmarked or shared. */
export function takeTokenFromLink(): string | null {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = fragment.get(LINK_PARAMETER);
  if (!token) return null;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return token.trim();
}

export const storedToken = (): string | null => sessionStorage.getItem(STORAGE_KEY);

export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

export type SignInAnswer = { session: Session } | { refused: string } | { unavailable: string };

/**
 * Asks the server who the token names; keeps it on success. Else answers why, in words: the token
 * was refused (4xx), or it could not be checked now (the server, or the identity provider behind
 * it, is busy or down), which says nothing against the token: it is kept.
 */
export async function signIn(token: string): Promise<SignInAnswer> {
  const trimmed = token.trim();
  if (!trimmed) return { refused: 'enter an access token' };
  const api = createClient<paths>({ baseUrl: location.origin });
  const answer = await api.GET('/v1/me', { headers: { authorization: `Bearer ${trimmed}` } }).catch(() => null);
  if (!answer) return { unavailable: 'the server could not be reached: check the connection and try again' };
  if (!answer.data) {
    const { status } = answer.response;
    const detail = describeProblem(answer.error, status);
    if (status >= 500 || status === 429) {
      // Nothing against the token: kept for this tab, so a reload tries it again.
      sessionStorage.setItem(STORAGE_KEY, trimmed);
      return { unavailable: `the server cannot check the access token now: ${detail}` };
    }
    return { refused: `the access token was refused: ${detail}` };
  }
  sessionStorage.setItem(STORAGE_KEY, trimmed);
  return { session: { token: trimmed, who: answer.data } };
}

/** Calls `onExpired` when the token runs out (never for a token without expiry); answers a cancel. */
export function watchExpiry(who: Who, onExpired: (reason: string) => void): () => void {
  if (!who.expiresAt) return () => undefined;
  const at = new Date(who.expiresAt);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const left = at.getTime() - Date.now();
    if (left <= 0) return onExpired(`your access token expired at ${at.toLocaleString()}: sign in again`);
    // Timers of more than about 24.8 days overflow: a long-lived token is looked at again every hour.
    timer = setTimeout(check, Math.min(left, 3_600_000));
  };
  check();
  return () => clearTimeout(timer);
}
