import { createBrowserRouter, Navigate, RouterProvider, type RouteObject } from 'react-router-dom';
import { useCallback, useEffect, useMemo, useState, type ComponentType } from 'react';
import { Layout } from './components/Layout';
import { Empty, ErrorState, Loading } from './components/States';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';
import { LoginPage } from './pages/auth/LoginPage';
import { pathForHash } from './logic/hash-links';
import { ApiError, get, post } from './lib/api';
import { SessionContext, setCsrfToken, setSignedOutHandler, type AuthSession, type SessionState } from './lib/session';
import { applyTheme, initialTheme } from './lib/theme';

/**
 * Each page but the first is its own chunk, loaded by the router before it renders the page (route-level `lazy`,
 * not React.lazy + Suspense, whose reveal React throttles by ~300 ms).
 */
const page = (load: () => Promise<{ default: ComponentType }>): Pick<RouteObject, 'lazy'> => ({
  lazy: async () => ({ Component: (await load()).default }),
});

// Links printed by MLflow clients (`/#/experiments/3/runs/<id>`) open the page they name: the hash becomes the path
// before the router reads the location.
const fromHash = pathForHash(window.location.hash);
if (fromHash) window.history.replaceState(null, '', fromHash);

const router = createBrowserRouter([
  {
    element: <Layout />,
    hydrateFallbackElement: <Loading />,
    children: [
      { path: '/', element: <Navigate to="/experiments" replace /> },
      { path: '/experiments', element: <ExperimentsPage /> },
      { path: '/experiments/:experimentId', ...page(() => import('./pages/runs/RunsPage')) },
      { path: '/runs/:runId', ...page(() => import('./pages/run/RunPage')) },
      { path: '/compare', ...page(() => import('./pages/compare/ComparePage')) },
      { path: '/models', ...page(() => import('./pages/models/ModelsPage')) },
      { path: '/models/:name', ...page(() => import('./pages/models/ModelPage')) },
      { path: '/models/:name/versions/:version', ...page(() => import('./pages/models/ModelVersionPage')) },
      { path: '/deployments', ...page(() => import('./pages/deployments/DeploymentsPage')) },
      { path: '/deployments/:name', ...page(() => import('./pages/deployments/DeploymentPage')) },
      { path: '/monitors', ...page(() => import('./pages/monitors/MonitorsPage')) },
      { path: '/monitors/:name', ...page(() => import('./pages/monitors/MonitorPage')) },
      { path: '/datasets', ...page(() => import('./pages/datasets/DatasetsPage')) },
      { path: '/datasets/:name', ...page(() => import('./pages/datasets/DatasetPage')) },
      { path: '/datasets/:name/versions/:version', ...page(() => import('./pages/datasets/DatasetVersionPage')) },
      { path: '/lineage', ...page(() => import('./pages/lineage/LineagePage')) },
      { path: '/projects', ...page(() => import('./pages/projects/ProjectsPage')) },
      { path: '/projects/:name', ...page(() => import('./pages/projects/ProjectPage')) },
      { path: '/settings/tokens', ...page(() => import('./pages/settings/TokensPage')) },
      { path: '/admin/users', ...page(() => import('./pages/admin/UsersPage')) },
      { path: '/admin/audit', ...page(() => import('./pages/admin/AuditPage')) },
      { path: '*', element: <Empty>Nothing here. Go to <a href="/experiments">experiments</a>.</Empty> },
    ],
  },
]);

type Gate =
  | { readonly kind: 'loading' }
  | { readonly kind: 'signed-out'; readonly sso: boolean; readonly ended: boolean }
  | { readonly kind: 'failed'; readonly error: Error }
  | { readonly kind: 'signed-in'; readonly session: AuthSession };

/**
 * Asks the server for the session first: signed in (or auth off), the app; a 401, the login page, in place, so the
 * page asked for opens after signing in. A 401 from any later call (the session ended) brings the login page back.
 */
export function App() {
  const [gate, setGate] = useState<Gate>(() => {
    applyTheme(initialTheme());
    return { kind: 'loading' };
  });
  const load = useCallback(async (ended: boolean) => {
    try {
      const session = await get<AuthSession>('/auth/session');
      setCsrfToken(session.csrf_token);
      setGate({ kind: 'signed-in', session });
    } catch (e) {
      setCsrfToken(null);
      if (e instanceof ApiError && e.status === 401) setGate({ kind: 'signed-out', sso: e.details?.sso === true, ended });
      else setGate({ kind: 'failed', error: e instanceof Error ? e : new Error(String(e)) });
    }
  }, []);
  useEffect(() => {
    setSignedOutHandler(() => void load(true));
    void load(false);
    return () => setSignedOutHandler(undefined);
  }, [load]);
  const state = useMemo<SessionState | undefined>(
    () =>
      gate.kind === 'signed-in'
        ? {
            session: gate.session,
            signOut: async () => {
              await post('/auth/logout').catch(() => undefined);
              setCsrfToken(null);
              setGate({ kind: 'signed-out', sso: gate.session.sso, ended: false });
              // The next sign-in (perhaps someone else's) starts from the experiments.
              void router.navigate('/experiments', { replace: true });
            },
          }
        : undefined,
    [gate],
  );
  switch (gate.kind) {
    case 'loading':
      return <Loading />;
    case 'failed':
      return <ErrorState error={gate.error} retry={() => void load(false)} />;
    case 'signed-out':
      return (
        <LoginPage
          sso={gate.sso}
          ended={gate.ended}
          onSignedIn={(session) => {
            setCsrfToken(session.csrf_token);
            setGate({ kind: 'signed-in', session });
          }}
        />
      );
    case 'signed-in':
      return (
        <SessionContext.Provider value={state}>
          <RouterProvider router={router} />
        </SessionContext.Provider>
      );
  }
}
