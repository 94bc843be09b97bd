import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

// The web UI: built into web/dist (served by `kiln server` at /); `npm run dev:web` serves it with hot reload
// and proxies the APIs to a Kiln server (KILN_DEV_API, default http://127.0.0.1:5000).
const api = process.env.KILN_DEV_API ?? 'http://127.0.0.1:5000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/api': api, '/ajax-api': api, '/health': api, '/version': api },
  },
});
