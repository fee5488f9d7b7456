import { defineConfig, type Plugin } from "vite";

// Head office pages: served by the sync server at "/", which falls back to index.html.
// The source page is office.html (index.html is the register's); it is written out as
// dist-office/index.html.
function officeAsIndex(): Plugin {
  return {
    name: "office-as-index",
    enforce: "post",
    generateBundle(_options, bundle) {
      const page = bundle["office.html"];
      if (!page) return;
      delete bundle["office.html"];
      page.fileName = "index.html";
      bundle["index.html"] = page;
    },
  };
}

export default defineConfig({
  base: "/",
  clearScreen: false,
  plugins: [officeAsIndex()],
  // The shared worker that holds the pages' one event stream (src/events/worker.ts) is its own
  // file of this origin, as the CSP's script-src 'self' allows; built as a module, as it is
  // started (`type: "module"`, which the dev server also needs).
  worker: { format: "es" },
  build: {
    target: "es2022",
    outDir: "dist-office",
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: { input: "office.html" },
  },
  server: {
    // `npm run dev:office` with the sync server on CAISSE_SERVER (default http://127.0.0.1:8080).
    proxy: { "/api": { target: process.env.CAISSE_SERVER ?? "http://127.0.0.1:8080", changeOrigin: false } },
  },
});
