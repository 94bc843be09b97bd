import { useState, type FormEvent } from 'react';
import { ApiError, post } from '../../lib/api';
import type { AuthSession } from '../../lib/session';

/**
 * Shown instead of the app when the server answers 401: a user name and password (POST /api/v1/auth/login sets the
 * session cookie), and single sign-on when the server has it configured. The URL is left as it is, so the page asked
 * for opens once signed in.
 */
export function LoginPage({ sso, ended, onSignedIn }: { sso: boolean; ended: boolean; onSignedIn: (s: AuthSession) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await post<AuthSession>('/auth/login', { username, password }));
    } catch (err) {
      setPassword('');
      if (err instanceof ApiError && err.status === 401) setError('Wrong user name or password.');
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const next = window.location.pathname + window.location.search;
  return (
    <div className="login-page">
      <form className="card login-card" onSubmit={(e) => void submit(e)} aria-label="Sign in">
        <div className="brand">Kiln</div>
        <h1>Sign in</h1>
        {ended && <p className="muted">Your session has ended. Sign in again to continue.</p>}
        <label className="field">
          <span>User name</span>
          <input name="username" autoComplete="username" autoFocus required value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label className="field">
          <span>Password</span>
          <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && (
          <div className="error-text" role="alert">
            {error}
          </div>
        )}
        <button className="primary" type="submit" disabled={busy || username === '' || password === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {sso && (
          <>
            <div className="login-or muted">or</div>
            <a className="button" href={`/api/v1/auth/sso/login?next=${encodeURIComponent(next)}`}>
              Sign in with SSO
            </a>
          </>
        )}
      </form>
    </div>
  );
}
