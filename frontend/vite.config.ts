import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

// The Django backend during development (`manage.py runserver`).
const backend = 'http://127.0.0.1:8000'

// https://vite.dev/config/
export default defineConfig({
  base: '/',
  plugins: [vue()],
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('./src', import.meta.url)),
    },
  },
  server: {
    // The Host header is kept as sent (localhost:5173) so Django's CSRF origin check passes
    // for the admin login; `localhost` is in the default ALLOWED_HOSTS.
    proxy: {
      '/api': backend,
      '/admin': backend,
      '/static': backend,
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
  },
})
