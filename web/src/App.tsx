import { lazy, Suspense, type ReactElement } from 'react';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router-dom';
import { Layout } from './components/Layout';
import { Empty, Loading } from './components/States';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';

// Heavy views load on demand so the first page stays small (React.lazy per page).
const RunPage = lazy(() => import('./pages/run/RunPage'));
const ComparePage = lazy(() => import('./pages/compare/ComparePage'));
const ModelsPage = lazy(() => import('./pages/models/ModelsPage'));
const ModelPage = lazy(() => import('./pages/models/ModelPage'));
const ModelVersionPage = lazy(() => import('./pages/models/ModelVersionPage'));
const DatasetsPage = lazy(() => import('./pages/datasets/DatasetsPage'));
const DatasetPage = lazy(() => import('./pages/datasets/DatasetPage'));
const DatasetVersionPage = lazy(() => import('./pages/datasets/DatasetVersionPage'));
const LineagePage = lazy(() => import('./pages/lineage/LineagePage'));
const RunsPage = lazy(() => import('./pages/runs/RunsPage'));

export const s = (el: ReactElement) => <Suspense fallback={<Loading />}>{el}</Suspense>;

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Navigate to="/experiments" replace /> },
      { path: '/experiments', element: <ExperimentsPage /> },
      { path: '/models', element: s(<ModelsPage />) },
      { path: '/models/:name', element: s(<ModelPage />) },
      { path: '/models/:name/versions/:version', element: s(<ModelVersionPage />) },
      { path: '/datasets', element: s(<DatasetsPage />) },
      { path: '/datasets/:name', element: s(<DatasetPage />) },
      { path: '/datasets/:name/versions/:version', element: s(<DatasetVersionPage />) },
      { path: '/lineage', element: s(<LineagePage />) },
      { path: '/runs/:runId', element: s(<RunPage />) },
      { path: '/compare', element: s(<ComparePage />) },
      { path: '/experiments/:experimentId', element: s(<RunsPage />) },
      { path: '*', element: <Empty>Nothing here. Go to <a href="/experiments">experiments</a>.</Empty> },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
