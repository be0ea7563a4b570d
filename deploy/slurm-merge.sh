#!/usr/bin/env bash
# Merges the slices written by slurm-coverage.sh; refuses a missing or
# duplicated slice.
#SBATCH --job-name=scanlab-merge
#SBATCH --time=00:10:00
set -euo pipefail
OUT=${OUT:-shards}
go run ./cmd/scanlab merge --experiment coverage --out results/coverage "$OUT"/shard-*/coverage
