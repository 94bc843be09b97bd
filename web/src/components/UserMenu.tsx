import { useEffect, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router-dom';
import { useSession } from '../lib/session';

/** The header's user menu: who is signed in, their tokens, the admin pages, sign out. With --auth none, a note. */
export function UserMenu() {
  const { session, signOut } = useSession();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const { pathname } = useLocation();
  useEffect(() => setOpen(false), [pathname]);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  if (session.auth === 'none') {
    return (
      <span className="badge" title="The server runs with --auth none: everyone who reaches it may do everything, and there is no signing in.">
        Auth off
      </span>
    );
  }
  return (
    <div className="user-menu" ref={ref}>
      <button aria-haspopup="menu" aria-expanded={open} aria-label={`User menu: ${session.user}`} onClick={() => setOpen(!open)}>
        <span className="user-name">{session.user}</span>
        {session.admin && <span className="badge warn">admin</span>} ▾
      </button>
      {open && (
        <div className="menu" role="menu">
          <div className="menu-note muted">
            Signed in as <strong>{session.user}</strong>
          </div>
          <Link role="menuitem" to="/settings/tokens">
            API tokens
          </Link>
          {session.admin && (
            <>
              <Link role="menuitem" to="/admin/users">
                Users
              </Link>
              <Link role="menuitem" to="/admin/audit">
                Audit log
              </Link>
            </>
          )}
          <button role="menuitem" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}
