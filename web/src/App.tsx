import { lazy, Suspense, type ReactElement } from 'react';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router-dom';
import { Layout } from './components/Layout';
import { Empty, Loading } from './components/States';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';

const RunPage = lazy(() => import('./pages/run/RunPage'));
const ComparePage = lazy(() => import('./pages/compare/ComparePage'));

// Heavy views load on demand so the first page stays small (React.lazy per page).

export const s = (el: ReactElement) => <Suspense fallback={<Loading />}>{el}</Suspense>;

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Navigate to="/experiments" replace /> },
      { path: '/experiments', element: <ExperimentsPage /> },
      { path: '/runs/:runId', element: s(<RunPage />) },
      { path: '/compare', element: s(<ComparePage />) },
      { path: '*', element: <Empty>Nothing here. Go to <a href="/experiments">experiments</a>.</Empty> },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
