# Shared by scripts/serve and scripts/test: build the web app (ui/) into the Python package
# (src/headwater/web/dist) when it is missing or out of date: its npm lock, its sources, or the
# API's OpenAPI document (the app's client types come from it) changed since the last build.
ensure_ui() {
  if ! command -v npm >/dev/null; then
    echo "Node.js and npm are needed to build the web app (ui/)." >&2
    return 1
  fi
  (cd ui && { [ node_modules/.package-lock.json -nt package-lock.json ] \
    || npm ci --no-audit --no-fund --loglevel=error; })
  mkdir -p build
  .venv/bin/headwater openapi -o build/openapi.next.json
  local built=src/headwater/web/dist/index.html
  if [ ! -f "$built" ] || ! cmp -s build/openapi.next.json build/openapi.json \
    || [ -n "$(find ui/src ui/scripts ui/index.html ui/package-lock.json ui/vite.config.ts ui/tsconfig.json \
      -newer "$built" -print -quit)" ]; then
    mv build/openapi.next.json build/openapi.json
    (cd ui && npm run --silent build)
  else
    rm build/openapi.next.json
  fi
}
