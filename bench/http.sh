#!/usr/bin/env bash
# HTTP throughput benchmark: the service's request path against nginx, in one
# run on one machine. wrk (-c64) on
#   nginx             a static file holding the very JSON imagevideo answers:
#                     the ceiling, what a tuned C server does with no work
#   imagevideo        an authenticated `GET /api/v1/videos/{id}` of a finished
#                     video (the whole request path: session, database, JSON),
#                     through `imagevideo serve` with its default config
#   imagevideo+idle   the same while 1,000 idle keep-alive connections are
#                     held open to the service (bench/idle_connections.py)
# Prints requests/s, p99 latency, the ratio to nginx and the throughput drop
# the idle connections cause, against the targets. Sets everything up itself
# in a temp dir: a fresh data dir, a verified user, an uploaded photo and a
# rendered 1 s 480p video. Exits 0 whether or not the targets are met; non-zero
# only when setting up fails.
#
# Usage: bench/http.sh
#   REPEAT=1        rounds of the three runs; the table shows medians
#   DURATION=10     seconds per measured wrk run (keep WARMUP+DURATION well
#                   under the server's 60 s keep-alive timeout, read_timeout,
#                   or it closes the idle connections during the last run)
#   WARMUP=2        seconds of unmeasured wrk before each run; 0 = none
#   CONNECTIONS=64  wrk connections;  THREADS=2  wrk threads
#   IDLE=1000       idle keep-alive connections held in the third run
#   PHOTO=tests/data/rocket.jpg   the photo uploaded and rendered
#   IMAGEVIDEO=build/imagevideo
#   KEEP=1          keep the temp dir (server logs, wrk outputs) and say where
#   IMAGEVIDEO_*    passed through to the server, e.g.
#                   IMAGEVIDEO_SERVER_HANDLER_THREADS=4 (default: its defaults)
# Needs: wrk, nginx (nginx-light is enough), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${IMAGEVIDEO:-build/imagevideo}
photo=${PHOTO:-tests/data/rocket.jpg}
repeat=${REPEAT:-1}
duration=${DURATION:-10}
warmup=${WARMUP:-2}
conns=${CONNECTIONS:-64}
threads=${THREADS:-2}
idle=${IDLE:-1000}
holder=$PWD/bench/idle_connections.py

die() {
  echo "http.sh: $*" >&2
  if [[ -s ${tmp:-}/imagevideo.err ]]; then
    echo "--- imagevideo stderr (last 20 lines):" >&2
    tail -n 20 "$tmp/imagevideo.err" >&2
  fi
  exit 1
}

for tool in wrk nginx curl python3; do
  command -v $tool >/dev/null || die "$tool not found (apt-get install wrk nginx-light curl python3)"
done
[[ -x $bin ]] || die "no binary at $bin: build first (make build)"
[[ -f $photo ]] || die "no photo at $photo"
bin=$(realpath "$bin")
photo=$(realpath "$photo")
# The idle connections, wrk's and the server's all count against the open-file
# limit, which the children inherit from here.
if (($(ulimit -n) < 4096)); then ulimit -n 4096 || die "cannot raise the open-file limit to 4096 (ulimit -n)"; fi
if ((warmup + duration > 45)); then
  echo "warning: WARMUP+DURATION=$((warmup + duration)) s comes close to the server's 60 s keep-alive" \
    "timeout: it may close the idle connections during their run" >&2
fi

# --- temp dir, and stopping every process started here on any exit ----------
tmp=$(mktemp -d)
server_pid='' nginx_pid='' holder_pid=''
cleanup() {
  local pid i pids=()
  for pid in "$holder_pid" "$nginx_pid" "$server_pid"; do [[ -z $pid ]] || pids+=("$pid"); done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # The server finishes requests in flight on SIGTERM; give everyone 10 s.
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ ${KEEP:-} == 1 ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers ------------------------------------------------------------------
# A free loopback port (racy in principle, fine on a quiet machine).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# jget KEY < json: one top-level field of a JSON object, as text.
jget() {
  python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print(v if isinstance(v, str) else json.dumps(v))' "$1"
}
# api METHOD PATH [curl args...]: the service's answer goes to $tmp/resp.json,
# its headers to $tmp/resp.h; prints the status code.
api() {
  local method=$1 path=$2
  shift 2
  curl -sS -o "$tmp/resp.json" -D "$tmp/resp.h" -w '%{http_code}' -X "$method" "$base$path" "$@" ||
    die "$method $path: no answer from the service"
}
# expect WANT GOT WHAT: stop unless the status is the one expected.
expect() {
  [[ $2 == "$1" ]] || die "$3: HTTP $2, expected $1: $(head -c 500 "$tmp/resp.json")"
}
# to_ms VALUE: wrk's latency (e.g. 812.00us, 3.21ms, 1.02s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
    if (f < 0) { print "unknown latency unit in " v > "/dev/stderr"; exit 1 }
    printf "%.3f\n", n * f }'
}
# bench NAME URL [wrk args...]: a warm-up, then the measured run into
# $tmp/wrk-NAME.txt; appends its req/s to $tmp/NAME.rps and its p99 (ms) to
# $tmp/NAME.p99, and notes errors wrk saw.
bench() {
  local name=$1 url=$2
  shift 2
  if ((warmup > 0)); then
    wrk -t"$threads" -c"$conns" -d"${warmup}s" "$@" "$url" >/dev/null || die "wrk failed on $url"
  fi
  wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "$@" "$url" >"$tmp/wrk-$name.txt" ||
    die "wrk failed on $url"
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk-$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk-$name.txt")
  [[ -n $rps && -n $p99 ]] || die "cannot read wrk's output for $name: $(cat "$tmp/wrk-$name.txt")"
  echo "$rps" >>"$tmp/$name.rps"
  to_ms "$p99" >>"$tmp/$name.p99"
  # Errors mean the numbers are not what they seem: say so next to them.
  local odd
  odd=$(grep -E 'Non-2xx|Socket errors' "$tmp/wrk-$name.txt" || true)
  [[ -z $odd ]] || notes+=("round $r, $name: $(echo "$odd" | sed 's/^ *//' | paste -sd ';')")
}
# median FILE: the median of the numbers in FILE, one a line.
median() { sort -g "$1" | awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# hold_idle: starts bench/idle_connections.py and waits until it holds $idle
# connections. Each has had one /healthz answered, so the server keeps it as
# a keep-alive connection waiting for its next request (until its 60 s
# read_timeout).
hold_idle() {
  python3 "$holder" 127.0.0.1 "$port" "$idle" >"$tmp/idle.out" 2>"$tmp/idle.err" &
  holder_pid=$!
  for ((i = 0; i < 600; i++)); do
    grep -q '^ready' "$tmp/idle.out" && break
    kill -0 "$holder_pid" 2>/dev/null || die "idle_connections.py failed: $(cat "$tmp/idle.err")"
    sleep 0.1
  done
  grep -q "^ready $idle\$" "$tmp/idle.out" || die "could not open $idle idle connections within 60 s"
}
# release_idle: stops the holder; notes if the server closed any of them.
release_idle() {
  kill -TERM "$holder_pid"
  wait "$holder_pid" || true
  holder_pid=
  still_open=$(sed -n 's/^open \([0-9]*\) of.*/\1/p' "$tmp/idle.out")
  ((${still_open:-0} < min_open)) && min_open=${still_open:-0}
  [[ $still_open == "$idle" ]] ||
    notes+=("round $r: only ${still_open:-?} of $idle idle connections were still open after the run")
}
notes=()
min_open=$idle  # the fewest idle connections still open at the end of a round

# --- 1. the service, on a free port with a fresh data dir ---------------------
# Started in the temp dir, so that no ./imagevideo.toml of the checkout applies.
(cd "$tmp" && IMAGEVIDEO_STORAGE_DATA_DIR="$tmp/data" exec "$bin" serve --port 0 \
  >"$tmp/imagevideo.out" 2>"$tmp/imagevideo.err") &
server_pid=$!
port=
for ((i = 0; i < 100; i++)); do
  port=$(sed -n 's|^imagevideo: listening on http://127\.0\.0\.1:\([0-9]*\) .*|\1|p' "$tmp/imagevideo.out")
  [[ -n $port ]] && break
  kill -0 "$server_pid" 2>/dev/null || die "imagevideo serve exited at start"
  sleep 0.1
done
[[ -n $port ]] || die "imagevideo serve did not print its port within 10 s"
base=http://127.0.0.1:$port

# --- 2. a verified user, a photo and a finished video ---------------------------
password="correct horse battery"
email=bench@example.com
code=$(api POST /api/v1/auth/register -H 'Content-Type: application/json' \
  -d "{\"name\":\"Bench\",\"email\":\"$email\",\"password\":\"$password\",\"age_confirmed\":true,\"policy_version\":\"2026-11-29\"}")
expect 201 "$code" "register"
# The verification mail is written to data/mail/ within about a second.
token=
for ((i = 0; i < 100; i++)); do
  token=$(cat "$tmp"/data/mail/*.eml 2>/dev/null | sed -n 's/.*[?&]token=\([A-Za-z0-9_-]*\).*/\1/p' | head -n 1 || true)
  [[ -n $token ]] && break
  sleep 0.1
done
[[ -n $token ]] || die "no verification mail with a token in $tmp/data/mail within 10 s"
expect 204 "$(api POST /api/v1/auth/verify -H 'Content-Type: application/json' -d "{\"token\":\"$token\"}")" "verify"
code=$(api POST /api/v1/auth/login -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}")
expect 200 "$code" "login"
session=$(tr -d '\r' <"$tmp/resp.h" | sed -n 's/^[Ss]et-[Cc]ookie: *__Host-session=\([^;]*\).*/\1/p' | head -n 1)
csrf=$(jget csrf_token <"$tmp/resp.json")
[[ -n $session ]] || die "login set no __Host-session cookie"
auth=(-H "Cookie: __Host-session=$session")

expect 201 "$(api POST /api/v1/images "${auth[@]}" -H "X-CSRF-Token: $csrf" -F "file=@$photo")" "upload"
image_id=$(jget id <"$tmp/resp.json")
code=$(api POST /api/v1/videos "${auth[@]}" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
  -d "{\"image_id\":\"$image_id\",\"duration_s\":1,\"size\":\"480p\"}")
expect 202 "$code" "create video"
video_id=$(jget id <"$tmp/resp.json")
path=/api/v1/videos/$video_id
state=
for ((i = 0; i < 600; i++)); do
  expect 200 "$(api GET "$path" "${auth[@]}")" "GET $path"
  state=$(jget state <"$tmp/resp.json")
  case $state in
    succeeded) break ;;
    failed | canceled) die "the video render ended $state: $(cat "$tmp/resp.json")" ;;
  esac
  sleep 0.2
done
[[ $state == succeeded ]] || die "the video did not finish rendering within 120 s (state $state)"

# --- 3. nginx serving that same JSON as a static file ----------------------------
mkdir -p "$tmp/www" "$tmp/nginx-temp"
cp "$tmp/resp.json" "$tmp/www/video.json"
body_bytes=$(wc -c <"$tmp/www/video.json")
nginx_port=$(free_port)
# As root the workers would drop to nobody, who cannot read the 0700 temp dir.
user_line=
((EUID == 0)) && user_line="user root;"
cat >"$tmp/nginx.conf" <<EOF
# Written by bench/http.sh: everything nginx writes stays in $tmp.
$user_line
daemon off;
worker_processes $(nproc);
pid $tmp/nginx.pid;
lock_file $tmp/nginx.lock;
error_log $tmp/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx-temp/body;
  proxy_temp_path $tmp/nginx-temp/proxy;
  fastcgi_temp_path $tmp/nginx-temp/fastcgi;
  uwsgi_temp_path $tmp/nginx-temp/uwsgi;
  scgi_temp_path $tmp/nginx-temp/scgi;
  sendfile on;
  tcp_nopush on;
  # Keep-alive as the service does it: no cap on requests per connection
  # (nginx closes after 1,000 by default, which would cost it reconnects).
  keepalive_timeout 65s;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/www;
    location = /video.json { default_type application/json; }
  }
}
EOF
# -e: the startup error log too, before the config is read.
nginx -p "$tmp/" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" &
nginx_pid=$!
nginx_url=http://127.0.0.1:$nginx_port/video.json
for ((i = 0; i < 100; i++)); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$nginx_url" || true) == 200 ]] && break
  sleep 0.1
done
((i < 100)) || die "nginx did not serve $nginx_url within 10 s: $(cat "$tmp/nginx-error.log")"
cmp -s "$tmp/www/video.json" <(curl -s "$nginx_url") || die "nginx does not serve the saved JSON"

# --- 4. the runs: nginx, imagevideo, imagevideo while idle connections are held
echo "GET $path ($body_bytes bytes of JSON) vs nginx's static copy:" \
  "wrk -t$threads -c$conns -d${duration}s (+${warmup}s warm-up), $(nproc) cores," \
  "load $(cut -d' ' -f1 /proc/loadavg), median of $repeat"
for ((r = 1; r <= repeat; r++)); do
  bench nginx "$nginx_url"
  bench imagevideo "$base$path" "${auth[@]}"
  hold_idle
  bench idle "$base$path" "${auth[@]}"
  # Does the service still answer a new connection?
  health=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/healthz" || true)
  [[ $health == 200 ]] || notes+=("round $r: after the idle run GET /healthz on a new connection answered '$health'")
  release_idle
done
rps_nginx=$(median "$tmp/nginx.rps") p99_nginx=$(median "$tmp/nginx.p99")
rps_iv=$(median "$tmp/imagevideo.rps") p99_iv=$(median "$tmp/imagevideo.p99")
rps_idle=$(median "$tmp/idle.rps") p99_idle=$(median "$tmp/idle.p99")

# --- 5. the table ------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
drop=$(awk -v a="$rps_iv" -v b="$rps_idle" 'BEGIN {printf "%.1f", (a - b) / a * 100}')
label="imagevideo+$idle idle"
printf '\n%-20s %10s %8s %9s\n' contender req_s p99_ms vs_nginx
printf '%-20s %10.0f %8.2f %9.3f\n' nginx "$rps_nginx" "$p99_nginx" 1
printf '%-20s %10.0f %8.2f %9.3f\n' imagevideo "$rps_iv" "$p99_iv" "$(ratio "$rps_iv" "$rps_nginx")"
printf '%-20s %10.0f %8.2f %9.3f\n' "$label" "$rps_idle" "$p99_idle" "$(ratio "$rps_idle" "$rps_nginx")"
echo
echo "throughput drop with $idle idle keep-alive connections: ${drop}%" \
  "(at least $min_open of them still open after each run)"
echo "targets: >= 0.5x nginx req/s, p99 <= 20 ms, <= 20% drop with $idle idle connections"
# verdict EXPR: "met" when the awk expression holds.
verdict() { awk "BEGIN {exit !($1)}" && echo met || echo MISSED; }
echo "result:  $(ratio "$rps_iv" "$rps_nginx")x $(verdict "$rps_iv >= 0.5 * $rps_nginx")," \
  "p99 $(printf "%.2f ms (idle %.2f ms)" "$p99_iv" "$p99_idle") $(verdict "$p99_iv <= 20 && $p99_idle <= 20")," \
  "drop ${drop}% $(verdict "$drop <= 20")"

# Anything that makes the numbers suspect, and what the server logged.
for note in "${notes[@]}"; do echo "note: $note"; done
if [[ -s $tmp/imagevideo.err ]]; then
  echo "note: imagevideo wrote $(wc -l <"$tmp/imagevideo.err") line(s) to stderr, the last ones:"
  tail -n 5 "$tmp/imagevideo.err" | sed 's/^/  /'
fi
exit 0
