#!/usr/bin/env bash
# Run an experiment: tools/experiments/<name>/run.ts, compiled with the rest of the tools (tsc,
# tools/tsconfig.json) against the built library, so build the library first:
#   npm run build:lib && tools/experiments/run.sh ess [options]      (--help lists the options)
# The tools are recompiled on every call (a few seconds), so the run always matches the sources.
set -euo pipefail
cd "$(dirname "$0")/../.."
name="${1:?usage: tools/experiments/run.sh <experiment> [options]  (experiments: $(ls tools/experiments | grep -v '\.' | tr '\n' ' '))}"
shift
if [ ! -f "tools/experiments/${name}/run.ts" ]; then
  echo "tools/experiments/run.sh: no experiment '${name}' (have: $(ls tools/experiments | grep -v '\.' | tr '\n' ' '))" >&2
  exit 2
fi
npx tsc -p tools/tsconfig.json
exec node "tools/dist/experiments/${name}/run.js" "$@"
