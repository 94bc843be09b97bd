import type { ReactNode } from 'react';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" /> {what}…
    </div>
  );
}

export function ErrorState({ error, retry }: { error: Error; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <div>{error.message}</div>
      {retry && (
        <button style={{ marginTop: 12 }} onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Why the last change failed, when it did. */
export function ActionError({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <div className="error-text" role="alert">
      {error}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state">{children}</div>;
}

/** A code block with a Copy button. */
export function Snippet({ code, label }: { code: string; label: string }) {
  return (
    <div className="snippet" aria-label={label}>
      <pre>
        <code>{code}</code>
      </pre>
      <button onClick={() => void navigator.clipboard?.writeText(code)} aria-label={`Copy ${label}`}>
        Copy
      </button>
    </div>
  );
}
