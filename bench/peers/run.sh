#!/usr/bin/env bash
# Compares the training speed of the default network (bench/README.md) in
# this engine, PyTorch (CPU) and ConvNetJS (node), all on one thread, on the
# same MNIST images, and prints images per second and the ratios.
#
# Needs: go; /usr/bin/python3 with Debian's torch (apt-get install -y
# python3-torch); node and npm (convnetjs is installed from package-lock.json
# into bench/peers/node_modules on first use).
#
# Settings (environment):
#   RUNS=3         rounds; each round measures every peer once, interleaved,
#                  and the tables show the median and the best round
#   SECONDS_PER=2  minimum measured seconds per peer, batch size and round
#   BATCHES="1 20" batch sizes
#   IMAGES=2000    first N MNIST training images cycled through by the peers
#   FLOAT64=1      also measure PyTorch in float64 (the engine's precision)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
RUNS=${RUNS:-3}
SECONDS_PER=${SECONDS_PER:-2}
BATCHES=${BATCHES:-"1 20"}
IMAGES=${IMAGES:-2000}
FLOAT64=${FLOAT64:-1}
PY=/usr/bin/python3

# One thread everywhere.
export GOMAXPROCS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "run.sh: $PY cannot import torch; install it with: apt-get install -y python3-torch" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/convnetjs" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(getconf _NPROCESSORS_ONLN) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "# $(go version); $("$PY" -c 'import torch; print("torch", torch.__version__)'); node $(node --version)" >&2
(cd "$root" && go test -c -o /dev/null ./engine) # build once before timing

for round in $(seq 1 "$RUNS"); do
  echo "# round $round/$RUNS" >&2
  # The engine: BenchmarkTrainStep/batch=N reports img/s.
  (cd "$root" && go test -run '^$' -bench 'TrainStep' -benchtime="${SECONDS_PER}s" -count=1 ./engine) |
    awk '/^BenchmarkTrainStep\/batch=/ {
           split($1, a, "="); sub(/-[0-9]+$/, "", a[2]);
           for (i = 2; i <= NF; i++) if ($(i) == "img/s") print "{\"peer\": \"engine\", \"batch\": " a[2] ", \"img_per_s\": " $(i-1) "}"
         }' >>"$results"
  for b in $BATCHES; do
    "$PY" "$here/torch_bench.py" --batch "$b" --images "$IMAGES" --seconds "$SECONDS_PER" >>"$results"
    if [ "$FLOAT64" = 1 ]; then
      "$PY" "$here/torch_bench.py" --batch "$b" --images "$IMAGES" --seconds "$SECONDS_PER" --dtype float64 >>"$results"
    fi
    node "$here/convnetjs_bench.js" --batch "$b" --images "$IMAGES" --seconds "$SECONDS_PER" >>"$results"
  done
done

echo "# raw measurements:" >&2
sed 's/^/#   /' "$results" >&2

"$PY" - "$results" "$BATCHES" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
batches = [int(b) for b in sys.argv[2].split()]
peers = [p for p in ["engine", "pytorch-float32", "pytorch-float64", "convnetjs"] if any(r["peer"] == p for r in rows)]
def runs(peer, b):
    return [r["img_per_s"] for r in rows if r["peer"] == peer and r["batch"] == b]
# A busy machine only ever slows a run down, so the best round is shown too.
for title, agg in (("median", statistics.median), ("best", max)):
    def v(peer, b):
        r = runs(peer, b)
        return agg(r) if r else float("nan")
    print("images/s, one thread, %s of %d rounds" % (title, len(runs("engine", batches[0]))))
    print()
    print("| batch | " + " | ".join(peers) + " | engine/pytorch-float32 | engine/convnetjs |")
    print("|---:|" + "---:|" * (len(peers) + 2))
    for b in batches:
        cells = ["%.0f" % v(p, b) for p in peers]
        print("| %d | %s | %.2f× | %.1f× |" % (b, " | ".join(cells), v("engine", b) / v("pytorch-float32", b), v("engine", b) / v("convnetjs", b)))
    print()
PYEOF
