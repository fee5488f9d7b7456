/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// The window loads the built files from the binary: relative paths, no dev server needed.
export default defineConfig({
  base: "./",
  clearScreen: false,
  build: { target: "safari15", outDir: "dist", emptyOutDir: true, sourcemap: false },
  test: { environment: "jsdom", globals: true },
});
