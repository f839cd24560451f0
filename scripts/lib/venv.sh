# Shared by scripts/serve and scripts/test: create .venv and install exactly the locked
# dependencies into it (requirements/serve.txt or requirements/test.txt, pinned with hashes), then
# Headwater itself, whenever the lock or pyproject.toml changed since the last install.
# The locks change only through ./scripts/lock.
ensure_venv() {
  local lock="requirements/$1.txt"
  local stamp=".venv/.installed-$1"
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --require-hashes --no-deps -r "$lock"
    .venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
}
