import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The web UI of TeleRead. Everything (scripts, WASM codecs, styles) is bundled into web/dist: no CDN.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    assetsInlineLimit: 0,
    // dcmjs-imaging loads its WASM with a (harmless, same-origin) eval'd fetch.
    rolldownOptions: { checks: { eval: false } },
  },
  worker: { format: 'es', rolldownOptions: { checks: { eval: false } } },
  server: {
    proxy: { '/api': process.env.TELEREAD_API ?? 'http://127.0.0.1:8080' },
  },
});
