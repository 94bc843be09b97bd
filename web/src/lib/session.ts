import { createContext, useContext } from 'react';
import type { AuthSession } from '../../../packages/sdk/src/contract/governance-schemas';

export type { AuthSession };

/**
 * The signed-in session as the whole UI sees it. The session id itself is in an HttpOnly cookie no script reads; what
 * the UI keeps is the CSRF token, which every write signed in by that cookie must send in X-Kiln-CSRF.
 */
let csrf: string | null = null;
let onSignedOut: (() => void) | undefined;

export function setCsrfToken(token: string | null): void {
  csrf = token;
}

export function csrfToken(): string | null {
  return csrf;
}

/** What to do when the server answers 401 (the session ended): the app shows the login page. */
export function setSignedOutHandler(fn: (() => void) | undefined): void {
  onSignedOut = fn;
}

export function sessionEnded(): void {
  onSignedOut?.();
}

export interface SessionState {
  readonly session: AuthSession;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<SessionState | undefined>(undefined);

/** The session (the signed-in user, or the note that auth is off). */
export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the signed-in app');
  return s;
}
