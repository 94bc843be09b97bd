import { createBrowserRouter, Navigate, RouterProvider, type RouteObject } from 'react-router-dom';
import type { ComponentType } from 'react';
import { Layout } from './components/Layout';
import { Empty, Loading } from './components/States';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';
import { pathForHash } from './logic/hash-links';

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
      { path: '/datasets', ...page(() => import('./pages/datasets/DatasetsPage')) },
      { path: '/datasets/:name', ...page(() => import('./pages/datasets/DatasetPage')) },
      { path: '/datasets/:name/versions/:version', ...page(() => import('./pages/datasets/DatasetVersionPage')) },
      { path: '/lineage', ...page(() => import('./pages/lineage/LineagePage')) },
      { path: '*', element: <Empty>Nothing here. Go to <a href="/experiments">experiments</a>.</Empty> },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
