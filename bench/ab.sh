#!/bin/bash
# bench/ab.sh — A/B of gil-prof builds on one workload, interleaved.
#
#   bench/ab.sh OUTDIR ROUNDS BUILD_A BUILD_B [BUILD_C ...]
#
# Each round runs bench/run.py once per build (one repetition, 100 Hz,
# BENCH_PROFILERS, default gilprof-wall, on BENCH_WORKLOADS, default http),
# builds taking turns, so drift of a noisy machine falls on all of them
# alike. OUTDIR/log gets one line per run: build, round, target switches/s,
# BPF ns per target switch, own CPU scaled to 5k switches/s, and the
# per-program runs/s x ns/run, from the kernel's own accounting (see
# bench/results/latest.md). Compare medians over the rounds. A build is
# any gil-prof binary: copy ./gil-prof aside before changing the tree.
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 OUTDIR ROUNDS BUILD_A BUILD_B [BUILD ...]" >&2; exit 2; }
out=$1 rounds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
: > "$out/log"
for r in $(seq "$rounds"); do
	for build in "$@"; do
		tag=$(basename "$build")-$r
		BENCH_GIL_PROF=$build python3 "$here/run.py" --reps 1 --rates 100 \
			--workloads "${BENCH_WORKLOADS:-http}" \
			--profilers "${BENCH_PROFILERS:-gilprof-wall}" --out "$out/$tag" >"$out/$tag.log" 2>&1
		# Columns of the per-event table: switches/s, ns/switch, own CPU at 5k/s, programs.
		row=$(grep -E '^\| [0-9]+ \|' "$out/$tag/latest.md" | tail -1 |
			awk -F'|' '{print $7 "|" $9 "|" $15 "|" $18}')
		echo "$(basename "$build") $r |$row" | tee -a "$out/log"
	done
done
