import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

// Served by the runtime at /ui/ (packages/runtime/src/api/ui.ts); the editor (CodeMirror, yaml)
// is a chunk of its own, loaded only by the flow page, so the first page stays small.
export default defineConfig({
  base: '/ui/',
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 700 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
})
