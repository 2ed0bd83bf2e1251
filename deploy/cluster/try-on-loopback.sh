#!/bin/sh
# try-on-loopback.sh runs the cluster recipe of docs/hosting.md on this
# machine's loopback for a bounded time: the NATS server of
# nats-server.conf, three replicas started with the command line of
# vizserver@.service and the environment of cluster.env, and Caddy with the
# Caddyfile (on loopback instead of the public name); then
# vizload through Caddy (a room, its viewers spread over the replicas by
# Caddy, forks), and each replica's share of the viewers. Ports are moved
# up by OFFSET (10000 unless given) so as not to meet a real deployment.
# Needs Debian's nats-server and caddy (apt-get install nats-server caddy)
# and Go.
#
#	sh deploy/cluster/try-on-loopback.sh
#	OFFSET=20000 sh deploy/cluster/try-on-loopback.sh
set -eu
off=${OFFSET:-10000}
nats_port=$((4222 + off))
proxy_port=$((8080 + off))
ports="$((8081 + off)) $((8082 + off)) $((8083 + off))"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# Nothing else may answer on these ports (curl exit 7: nothing listens).
for port in $nats_port $proxy_port $ports; do
	rc=0
	curl -s --max-time 2 "http://127.0.0.1:$port/" >/dev/null 2>&1 || rc=$?
	if [ "$rc" -ne 7 ]; then
		echo "try-on-loopback: port $port is in use; stop what listens there first" >&2
		exit 1
	fi
done

(cd "$root" && go build -o "$dir" ./cmd/vizserver ./cmd/vizload)

sed -e "s|/var/lib/nats|$dir/js|" -e "s|^port: 4222|port: $nats_port|" "$here/nats-server.conf" >"$dir/nats.conf"
nats-server -c "$dir/nats.conf" >"$dir/nats.log" 2>&1 &
pids="$pids $!"
sleep 1

# The unit's command line, for its three instances.
exec_start=$(sed -n 's/^ExecStart=//p' "$here/vizserver@.service")
set -a
. "$here/cluster.env"
set +a
BPV_NATS=$(echo "$BPV_NATS" | sed "s/:4222/:$nats_port/")
for port in $ports; do
	cmd=$(echo "$exec_start" | sed -e "s|/usr/local/bin/vizserver|$dir/vizserver|" -e "s|%i|$port|g" -e "s|%l|$(hostname -s)|g")
	$cmd -log-level warn >"$dir/replica-$port.log" 2>&1 &
	pids="$pids $!"
	eval "pid_$port=$!"
done

{
	printf '{\n\tadmin off\n}\n'
	sed -e "s|^viz.school.example|http://127.0.0.1:$proxy_port|" -e "s|127.0.0.1:8081|127.0.0.1:$((8081 + off))|" \
		-e "s|127.0.0.1:8082|127.0.0.1:$((8082 + off))|" -e "s|127.0.0.1:8083|127.0.0.1:$((8083 + off))|" "$here/Caddyfile"
} >"$dir/Caddyfile"
caddy run --config "$dir/Caddyfile" --adapter caddyfile >"$dir/caddy.log" 2>&1 &
pids="$pids $!"

for port in $ports $proxy_port; do
	for i in $(seq 50); do
		curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		sleep 0.2
	done
	if ! curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
		echo "try-on-loopback: nothing healthy on port $port" >&2
		cat "$dir"/*.log >&2
		exit 1
	fi
done

"$dir/vizload" -url "http://127.0.0.1:$proxy_port" -viewers 60 -forks 3 -view default -warmup 2s -duration 5s
home=""
for port in $ports; do
	m=$(curl -fs http://127.0.0.1:$port/metrics | grep -E '^bpv_(frames_sent_total|rooms|forks_total|nats_connected) ' | tr '\n' ' ')
	echo "replica $port: $m"
	case "$m" in *"bpv_rooms 1"*) home=$port ;; esac
done
if [ -z "$home" ]; then
	echo "try-on-loopback: no replica hosts the room" >&2
	exit 1
fi
# The room's replica stops: it saves the room's model for resuming elsewhere.
eval "kill -TERM \$pid_$home"
sleep 2
if grep -hE 'level=(WARN|ERROR)' "$dir"/replica-*.log; then
	echo "try-on-loopback: the replicas logged warnings (above)" >&2
	exit 1
fi
echo "try-on-loopback: ok"
