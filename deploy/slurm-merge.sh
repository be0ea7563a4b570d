#!/usr/bin/env bash
# Merges the slices written by slurm-coverage.sh, refusing a missing or
# duplicated slice and slices of different runs, then regenerates the plots
# and the report from every result the directory holds.
#SBATCH --job-name=scanlab-merge
#SBATCH --time=00:10:00
set -euo pipefail
OUT=${OUT:-shards}
RESULTS=${RESULTS:-results}
go run ./cmd/scanlab merge --experiment coverage --out "$RESULTS/coverage" "$OUT"/shard-*/coverage
go run ./cmd/scanlab report "$RESULTS"
