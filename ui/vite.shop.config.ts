import { defineConfig, type Plugin } from "vite";

// The storefront: served by the sync server at "/shop/", which falls back to its index.html.
// The source page is shop.html; it is written out as dist-shop/index.html, its assets under
// /shop/assets/.
function shopAsIndex(): Plugin {
  return {
    name: "shop-as-index",
    enforce: "post",
    generateBundle(_options, bundle) {
      const page = bundle["shop.html"];
      if (!page) return;
      delete bundle["shop.html"];
      page.fileName = "index.html";
      bundle["index.html"] = page;
    },
  };
}

export default defineConfig({
  base: "/shop/",
  clearScreen: false,
  plugins: [shopAsIndex()],
  build: {
    target: "es2022",
    outDir: "dist-shop",
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: { input: "shop.html" },
  },
  server: {
    // `npm run dev:shop` with the sync server on CAISSE_SERVER (default http://127.0.0.1:8080).
    proxy: { "/api": { target: process.env.CAISSE_SERVER ?? "http://127.0.0.1:8080", changeOrigin: false } },
  },
});
