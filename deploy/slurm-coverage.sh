#!/usr/bin/env bash
# Runs the coverage sweep as a Slurm job array: each array task runs one
# slice, then a dependent job merges them.
#
#   sbatch --array=0-7 deploy/slurm-coverage.sh            # 8 slices
#   sbatch --dependency=afterok:JOBID deploy/slurm-merge.sh
#
# The full study (100,000 accounts over 90 days, one cell per slice):
#
#   FULL=1 sbatch --array=0-24 --mem=10G --time=01:00:00 deploy/slurm-coverage.sh
#
# One full cell (the base) took 16.5 minutes and 6.6 GiB at its peak on a
# 2-core machine, mostly on one core; cells of the duration sweep differ.
#
#SBATCH --job-name=scanlab-coverage
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=scanlab-coverage-%a.log
set -euo pipefail
SLICES=${SLURM_ARRAY_TASK_COUNT:?run as a job array (sbatch --array=0-N)}
SEED=${SEED:-1}
OUT=${OUT:-shards}
go run ./cmd/scanlab run coverage ${FULL:+--full} --seed "$SEED" --shards "$SLICES" --out "$OUT/shard-$SLURM_ARRAY_TASK_ID"
