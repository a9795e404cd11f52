#!/usr/bin/env bash
# Run an experiment script: bundle scripts/experiments/<name>.ts with esbuild (the library itself
# stays external and is loaded from the built kernel-lib/dist) and execute it.
#   npm run build:lib && scripts/experiments/run.sh transfer [options]
# (only transfer.ts is left here; the other experiments are tools/experiments/<name>/, run by
# tools/experiments/run.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
name="${1:?usage: scripts/experiments/run.sh <experiment> [options]}"
shift
mkdir -p runs/experiments/.build
npx esbuild "scripts/experiments/${name}.ts" --bundle --platform=node --packages=external --sourcemap \
  --outfile="runs/experiments/.build/${name}.js" --log-level=warning
# The bundle lives under runs/ (git-ignored); resolve anomaly-lab from the workspace.
NODE_PATH="$PWD/node_modules" exec node "runs/experiments/.build/${name}.js" "$@"
