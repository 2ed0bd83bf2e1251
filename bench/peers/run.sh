#!/usr/bin/env bash
# Compares the training speed of the default network (bench/README.md) in
# this engine, PyTorch (CPU) and ConvNetJS (node), on the same MNIST images,
# and prints images per second and the ratios: the engine at GOMAXPROCS=1
# against PyTorch with 1 thread and ConvNetJS, and the engine at
# GOMAXPROCS=2 against PyTorch with 2 threads.
#
# Every measurement is its own process (PyTorch's speed at batch 20 varies
# 2–4× from one process to the next on a small shared machine), and the
# peers take turns: each round starts one process of every peer, so that a
# busy moment hits every peer alike. The tables give the median of the
# processes with their minimum and maximum.
#
# Needs: go; /usr/bin/python3 with Debian's torch (apt-get install -y
# python3-torch); node and npm (convnetjs is installed from package-lock.json
# into bench/peers/node_modules on first use).
#
# Settings (environment):
#   RUNS=5         rounds, so RUNS processes of every peer and batch size
#   SECONDS_PER=1  minimum measured seconds per process
#   BATCHES="1 20" batch sizes
#   IMAGES=2000    first N MNIST training images cycled through by the peers
#   FLOAT64=0      1: also measure PyTorch in float64 (the engine's precision)
#   CONVNETJS=1    0: leave ConvNetJS out
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
RUNS=${RUNS:-5}
SECONDS_PER=${SECONDS_PER:-1}
BATCHES=${BATCHES:-"1 20"}
IMAGES=${IMAGES:-2000}
FLOAT64=${FLOAT64:-0}
CONVNETJS=${CONVNETJS:-1}
PY=/usr/bin/python3

# No library starts threads of its own; the thread counts are set per peer.
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "run.sh: $PY cannot import torch; install it with: apt-get install -y python3-torch" >&2
  exit 1
fi
if [ "$CONVNETJS" = 1 ] && [ ! -d "$here/node_modules/convnetjs" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(getconf _NPROCESSORS_ONLN) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "# $(go version); $("$PY" -c 'import torch; print("torch", torch.__version__)'); node $(node --version)" >&2
(cd "$root" && go test -c -o "$work/engine.test" ./engine) # built once, before timing
bench=$(echo "$BATCHES" | tr ' ' '|')

# engine PEER PROCS: one process of BenchmarkTrainStep at GOMAXPROCS=PROCS.
engine() {
  (cd "$root/engine" && GOMAXPROCS=$2 "$work/engine.test" -test.run '^$' -test.bench "TrainStep/batch=($bench)\$" -test.benchtime="${SECONDS_PER}s" -test.count=1) |
    awk -v peer="$1" '/^BenchmarkTrainStep\/batch=/ {
           split($1, a, "="); sub(/-[0-9]+$/, "", a[2]);
           for (i = 2; i <= NF; i++) if ($(i) == "img/s") print "{\"peer\": \"" peer "\", \"batch\": " a[2] ", \"img_per_s\": " $(i-1) "}"
         }' >>"$results"
}

for round in $(seq 1 "$RUNS"); do
  echo "# round $round/$RUNS" >&2
  engine engine 1
  engine engine-2cores 2
  for b in $BATCHES; do
    "$PY" "$here/torch_bench.py" --batch "$b" --images "$IMAGES" --seconds "$SECONDS_PER" >>"$results"
    "$PY" "$here/torch_bench.py" --batch "$b" --images "$IMAGES" --seconds "$SECONDS_PER" --threads 2 >>"$results"
    if [ "$FLOAT64" = 1 ]; then
      "$PY" "$here/torch_bench.py" --batch "$b" --images "$IMAGES" --seconds "$SECONDS_PER" --dtype float64 >>"$results"
    fi
    if [ "$CONVNETJS" = 1 ]; then
      node "$here/convnetjs_bench.js" --batch "$b" --images "$IMAGES" --seconds "$SECONDS_PER" >>"$results"
    fi
  done
done

echo "# raw measurements:" >&2
sed 's/^/#   /' "$results" >&2

"$PY" - "$results" "$BATCHES" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
batches = [int(b) for b in sys.argv[2].split()]
order = ["engine", "pytorch-float32", "pytorch-float64", "convnetjs", "engine-2cores", "pytorch-float32-2t"]
peers = [p for p in order if any(r["peer"] == p for r in rows)]
def runs(peer, b):
    return [r["img_per_s"] for r in rows if r["peer"] == peer and r["batch"] == b]
def med(peer, b):
    r = runs(peer, b)
    return statistics.median(r) if r else float("nan")
ratios = [("engine", "pytorch-float32"), ("engine", "convnetjs"), ("engine-2cores", "pytorch-float32-2t"), ("engine-2cores", "engine")]
ratios = [(a, b) for a, b in ratios if a in peers and b in peers]
print("images/s: median (min–max) of %d processes per peer and batch size" % len(runs("engine", batches[0])))
print()
print("| peer | " + " | ".join("batch %d" % b for b in batches) + " |")
print("|---|" + "---:|" * len(batches))
for p in peers:
    cells = []
    for b in batches:
        r = runs(p, b)
        cells.append("%.0f (%.0f–%.0f)" % (statistics.median(r), min(r), max(r)) if r else "")
    print("| %s | %s |" % (p, " | ".join(cells)))
print()
print("| ratio of medians | " + " | ".join("batch %d" % b for b in batches) + " |")
print("|---|" + "---:|" * len(batches))
for a, c in ratios:
    print("| %s / %s | %s |" % (a, c, " | ".join("%.2f×" % (med(a, b) / med(c, b)) for b in batches)))
PYEOF
