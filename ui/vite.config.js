// Builds the dashboard into src/sdwan/ui_dist/ (never committed), which `sdwan serve`
// serves at /ui/. One entry, hashed file names, no inline script or style (the page
// is served with a CSP that forbids them) and no asset inlined as a data: URL.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/ui/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../src/sdwan/ui_dist', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
    sourcemap: false,
  },
});
