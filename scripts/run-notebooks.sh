#!/usr/bin/env bash
# Execute every tslab notebook headless with the real kernel and export executed copies + HTML.
#
#   scripts/run-notebooks.sh                 # all notebooks/*.ipynb, in name order (02 uses 01's checkpoint)
#   scripts/run-notebooks.sh notebooks/03-power-system-dashboard.ipynb
#   scripts/run-notebooks.sh --install-only  # just the kernel spec; prints JUPYTER_PATH=… and PYTHON=…
#
# Needs Debian's Jupyter (apt-get install -y jupyter-nbconvert python3-nbclient jupyter-client
# python3-ipykernel; .ci/run installs them) and `npm install` (tslab is a root devDependency).
# The tslab kernel spec is installed idempotently into a private prefix inside node_modules/.cache
# (JUPYTER_PATH points there), so the script never edits the machine's Jupyter setup and always runs
# THIS checkout's tslab. Outputs: test/artifacts/notebooks/<name>.ipynb and <name>.html; runs the
# notebooks create go to test/artifacts/notebooks/runs (ANOMALY_LAB_RUNS). Any cell error fails.
# Set ANOMALY_LAB_DATA=../shared/data to run the notebooks on the real data instead of generated data.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

OUT="${ANOMALY_LAB_NOTEBOOK_OUT:-$ROOT/test/artifacts/notebooks}"
TIMEOUT="${ANOMALY_LAB_CELL_TIMEOUT:-1200}"
TSLAB_BIN="$ROOT/node_modules/.bin/tslab"
PREFIX="$ROOT/node_modules/.cache/anomaly-lab-jupyter"
KERNEL_JSON="$PREFIX/share/jupyter/kernels/tslab/kernel.json"

die() { echo "run-notebooks: $*" >&2; exit 1; }

command -v jupyter-nbconvert >/dev/null 2>&1 || die "jupyter-nbconvert not found (apt-get install -y jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel)"
[ -x "$TSLAB_BIN" ] || die "$TSLAB_BIN not found (run npm install at the repository root)"

# Jupyter's own Python (the Debian one), not whatever python3 is first on PATH (pyenv etc.).
PY=""
for cand in "$(head -1 "$(command -v jupyter-nbconvert)" | sed -n 's/^#! *//p' | awk '{print $1}')" /usr/bin/python3 python3; do
  if [ -n "$cand" ] && "$cand" -c 'import jupyter_client, nbclient' >/dev/null 2>&1; then PY="$cand"; break; fi
done
[ -n "$PY" ] || die "no Python with jupyter_client and nbclient found"

# Kernel spec (idempotent): reinstall only when missing or pointing at another checkout's tslab.
if ! grep -qF "\"$TSLAB_BIN\"" "$KERNEL_JSON" 2>/dev/null; then
  "$TSLAB_BIN" install --python="$PY" --binary="$TSLAB_BIN" --prefix="$PREFIX" >/dev/null
  grep -qF "\"$TSLAB_BIN\"" "$KERNEL_JSON" || die "tslab kernel spec was not installed at $KERNEL_JSON"
fi
export JUPYTER_PATH="$PREFIX/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
if [ "${1:-}" = "--install-only" ]; then
  echo "JUPYTER_PATH=$PREFIX/share/jupyter"
  echo "PYTHON=$PY"
  exit 0
fi

# The notebooks import the built library (workspace package `anomaly-lab` → kernel-lib/dist).
[ -f "$ROOT/kernel-lib/dist/index.js" ] || npm run -s build:lib
# Notebook files must match their sources (notebooks/src/*.ts).
node "$ROOT/notebooks/tools/build-notebooks.js" --check

if [ $# -gt 0 ]; then NOTEBOOKS=("$@"); else mapfile -t NOTEBOOKS < <(ls "$ROOT"/notebooks/*.ipynb | sort); fi
[ ${#NOTEBOOKS[@]} -gt 0 ] || die "no notebooks found in notebooks/"

mkdir -p "$OUT"
export ANOMALY_LAB_RUNS="${ANOMALY_LAB_RUNS:-$OUT/runs}"
failed=0
for nb in "${NOTEBOOKS[@]}"; do
  name="$(basename "$nb" .ipynb)"
  start=$(date +%s)
  echo "run-notebooks: executing $name ..."
  if "$PY" -m nbconvert --to notebook --execute \
      --ExecutePreprocessor.kernel_name=tslab \
      --ExecutePreprocessor.timeout="$TIMEOUT" \
      --output-dir "$OUT" --output "$name" "$nb" >"$OUT/$name.log" 2>&1; then
    "$PY" -m nbconvert --to html --output-dir "$OUT" --output "$name" "$OUT/$name.ipynb" >>"$OUT/$name.log" 2>&1 \
      || { echo "run-notebooks: HTML export of $name failed (see $OUT/$name.log)" >&2; failed=1; }
    echo "run-notebooks: $name ok in $(( $(date +%s) - start )) s"
  else
    echo "run-notebooks: $name FAILED after $(( $(date +%s) - start )) s; last lines of $OUT/$name.log:" >&2
    tail -25 "$OUT/$name.log" >&2
    failed=1
    break # later notebooks may depend on this one's outputs
  fi
done
exit $failed
