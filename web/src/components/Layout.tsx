import { useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router-dom';
import { applyTheme, initialTheme, type Theme } from '../lib/theme';
import { UserMenu } from './UserMenu';
import { ProjectSwitcher } from './ProjectSwitcher';
import { useProject } from '../lib/project';

const FILL_ROUTES = [/^\/experiments\/[^/]+$/, /^\/lineage/];

export function Layout() {
  const [theme, setTheme] = useState<Theme>(() => {
    const t = initialTheme();
    applyTheme(t);
    return t;
  });
  const { pathname } = useLocation();
  const { project } = useProject();
  // The lists that follow the switcher keep the chosen project in their URL.
  const inProject = project === null ? '' : `?project=${encodeURIComponent(project)}`;
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
          <NavLink to={`/experiments${inProject}`}>Experiments</NavLink>
          <NavLink to={`/models${inProject}`}>Models</NavLink>
          <NavLink to={`/deployments${inProject}`}>Deployments</NavLink>
          <NavLink to={`/monitors${inProject}`}>Monitors</NavLink>
          <NavLink to="/datasets">Datasets</NavLink>
          <NavLink to="/lineage">Lineage</NavLink>
          <NavLink to="/projects">Projects</NavLink>
        </nav>
        <ProjectSwitcher />
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
