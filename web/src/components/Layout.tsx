import { useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router-dom';
import { applyTheme, initialTheme, type Theme } from '../lib/theme';
import { UserMenu } from './UserMenu';

const FILL_ROUTES = [/^\/experiments\/[^/]+$/, /^\/lineage/];

export function Layout() {
  const [theme, setTheme] = useState<Theme>(() => {
    const t = initialTheme();
    applyTheme(t);
    return t;
  });
  const { pathname } = useLocation();
  const fill = FILL_ROUTES.some((r) => r.test(pathname));
  const toggle = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next);
    setTheme(next);
  };
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Kiln</span>
        <nav aria-label="Main">
          <NavLink to="/experiments">Experiments</NavLink>
          <NavLink to="/models">Models</NavLink>
          <NavLink to="/datasets">Datasets</NavLink>
          <NavLink to="/lineage">Lineage</NavLink>
        </nav>
        <span className="spacer" />
        <a href="/api/v1/openapi.json" className="muted">
          API
        </a>
        <button onClick={toggle} aria-label="Toggle dark theme" title="Light / dark">
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
        <UserMenu />
      </header>
      <main className={fill ? 'main fill' : 'main'}>
        <Outlet />
      </main>
    </div>
  );
}
