import { lazy, Suspense, type ReactElement } from 'react';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router-dom';
import { Layout } from './components/Layout';
import { Empty, Loading } from './components/States';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';

// Heavy views load on demand so the first page stays small (React.lazy per page).

const RunsPage = lazy(() => import('./pages/runs/RunsPage'));

export const s = (el: ReactElement) => <Suspense fallback={<Loading />}>{el}</Suspense>;

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Navigate to="/experiments" replace /> },
      { path: '/experiments', element: <ExperimentsPage /> },
      { path: '/experiments/:experimentId', element: s(<RunsPage />) },
      { path: '*', element: <Empty>Nothing here. Go to <a href="/experiments">experiments</a>.</Empty> },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
