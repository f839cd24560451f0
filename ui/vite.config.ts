import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build lands inside the Python package, which serves it from the API's own origin.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../src/headwater/web/dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` beside `headwater serve` on its default port
    proxy: { "/api": "http://127.0.0.1:8088", "/v1": "http://127.0.0.1:8088" },
  },
  // pure modules are tested in node; a component test asks for jsdom in its docblock
  // Interaction tests type a key at a time into jsdom: seconds each on a busy two-core machine.
  test: { environment: "node", testTimeout: 30_000 },
});
