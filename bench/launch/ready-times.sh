#!/usr/bin/env bash
# Time from GET /build to the `ready` event on the local platform, for a fresh environment (a commit never built:
# fetch + venv + requirements + server start) and for a cached one (server start only). Median of N runs each.
# Also measures Ferry's heap while 50 MiB go up and 50 MiB come down through the proxy (curl as the client, so the
# only JVM heap measured is Ferry's).
#
# Usage: bench/launch/ready-times.sh [runs]        (needs: python3 with Jupyter, git, curl, jcmd)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${1:-5}"
JAR=target/ferry.jar
[ -f "$JAR" ] || ./mvnw -B -q package -DskipTests
WORK="$(mktemp -d /tmp/ferry-bench-XXXX)"
PORT=18080; GITPORT=18081
cleanup() { kill "$FERRY_PID" "$HTTP_PID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# A repository served over (dumb) HTTP on loopback.
git init -q -b main "$WORK/src"
printf 'ipykernel\n' > "$WORK/src/requirements.txt"
git -C "$WORK/src" add . && git -C "$WORK/src" -c user.email=b@b -c user.name=bench commit -qm init
git clone -q --bare "$WORK/src" "$WORK/srv/repo.git"
git -C "$WORK/srv/repo.git" update-server-info
(cd "$WORK/srv" && exec python3 -m http.server "$GITPORT" --bind 127.0.0.1 >/dev/null 2>&1) & HTTP_PID=$!

java -jar "$JAR" --server.port=$PORT --ferry.local.work-dir="$WORK/ferry" --ferry.repo.allowed-schemes=http \
  --ferry.repo.allow-private-addresses=true --logging.level.root=WARN > "$WORK/ferry.log" 2>&1 & FERRY_PID=$!
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/actuator/health" >/dev/null && break; sleep 0.5; done

ENC=$(python3 -c "import urllib.parse;print(urllib.parse.quote('http://127.0.0.1:$GITPORT/repo.git', safe=''))")
launch() { # prints seconds to ready and the ready event
  local t0 t1 ready
  t0=$(date +%s.%N)
  ready=$(curl -sN -H 'Accept: text/event-stream' "http://127.0.0.1:$PORT/build/git/$ENC/$1" | grep -m1 -E '"phase":"(ready|failed)"')
  t1=$(date +%s.%N)
  case "$ready" in *'"ready"'*) ;; *) echo "launch failed: $ready" >&2; exit 1;; esac
  echo "$(awk "BEGIN {printf \"%.2f\", $t1 - $t0}") $ready"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

fresh=(); cached=()
for i in $(seq "$RUNS"); do
  echo "run $i" > "$WORK/src/run.txt"
  git -C "$WORK/src" add . && git -C "$WORK/src" -c user.email=b@b -c user.name=bench commit -qm "run $i"
  git -C "$WORK/src" push -q "$WORK/srv/repo.git" main && git -C "$WORK/srv/repo.git" update-server-info
  fresh+=("$(launch main | cut -d' ' -f1)")
  cached+=("$(launch main | cut -d' ' -f1)")
done
echo "machine: $(nproc) cores, $(java -version 2>&1 | head -1)"
echo "fresh environment  (fetch + venv + requirements + start): median $(printf '%s\n' "${fresh[@]}" | median) s  [${fresh[*]}]"
echo "cached environment (start only):                          median $(printf '%s\n' "${cached[@]}" | median) s  [${cached[*]}]"

# 50 MiB up and down through the proxy, curl as the client; Ferry's heap sampled with jcmd.
READY=$(launch main | cut -d' ' -f2-)
URL=$(echo "$READY" | sed -E 's/.*"url":"([^"]+)".*/\1/')
TOKEN=$(echo "$READY" | sed -E 's/.*"token":"([^"]+)".*/\1/')
head -c $((50*1024*1024)) /dev/urandom > "$WORK/big.bin"
python3 - "$WORK/big.bin" "$WORK/upload.json" <<'PY'
import base64, json, sys
data = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'w').write(json.dumps({"type": "file", "format": "base64", "content": base64.b64encode(data).decode()}))
PY
heap_used() { jcmd "$FERRY_PID" GC.heap_info 2>/dev/null | awk '/total .* used/ {for(i=1;i<=NF;i++) if ($i=="used") {v=$(i+1); gsub(/[^0-9]/,"",v); print v; exit}}'; }
jcmd "$FERRY_PID" GC.run >/dev/null; BASE=$(heap_used)
PEAK=$BASE
( while kill -0 "$FERRY_PID" 2>/dev/null; do heap_used; sleep 0.05; done ) > "$WORK/heap.samples" & SAMPLER=$!
curl -sf -X PUT -H "Authorization: token $TOKEN" -H 'Content-Type: application/json' --data-binary @"$WORK/upload.json" "${URL}api/contents/big.bin" >/dev/null
curl -sf -H "Authorization: token $TOKEN" "${URL}files/big.bin" -o "$WORK/back.bin"
kill $SAMPLER 2>/dev/null || true
cmp -s "$WORK/big.bin" "$WORK/back.bin" && SAME=intact || SAME=CORRUPTED
PEAK=$(sort -n "$WORK/heap.samples" | tail -1)
jcmd "$FERRY_PID" GC.run >/dev/null; AFTER=$(heap_used)
echo "50 MiB up (67 MiB JSON) + 50 MiB down through the proxy: $SAME; Ferry heap used before ${BASE} KiB, peak ${PEAK} KiB (+$(( (PEAK-BASE)/1024 )) MiB incl. garbage), after GC ${AFTER} KiB"
