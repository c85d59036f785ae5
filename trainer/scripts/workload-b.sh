#!/usr/bin/env bash
# Workload mix B (held-out mix): compile-like bursts, Python compute and memory phases, xz, sqlite
# inserts from Python, loopback TCP transfers between two Python processes (127.0.0.1 only).
# Runs for $1 seconds (default 240), then stops everything it started.
set -u
secs=${1:-240}
scratch=$(mktemp -d /tmp/procperf-wl-b.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$scratch"' EXIT
end=$((SECONDS + secs))
RANDOM=2

compile() {  # bursts of parallel C compiles of a generated file
  for i in $(seq 1 400); do echo "int f$i(int x){int s=0;for(int j=0;j<x;j++)s+=j*$i;return s;}"; done > "$scratch/gen.c"
  while [ $SECONDS -lt $end ]; do
    for j in $(seq 1 $((1 + RANDOM % 4))); do
      gcc -O$((RANDOM % 3)) -c "$scratch/gen.c" -o "$scratch/gen$j.o" &
    done
    wait
    sleep $((1 + RANDOM % 6))
  done
}
pyphases() { # python alternating compute and memory-growth phases
  while [ $SECONDS -lt $end ]; do
    python3 -c "
import random, time
random.seed($RANDOM)
t = time.time() + random.uniform(3, 10)
if random.random() < 0.5:
    x = 0
    while time.time() < t: x += sum(i*i for i in range(1000))
else:
    blocks = []
    while time.time() < t:
        blocks.append(bytearray(random.randint(1, 8) * 2**20)); time.sleep(0.05)
"
    sleep $((1 + RANDOM % 5))
  done
}
xzer() {
  while [ $SECONDS -lt $end ]; do
    head -c $((2 + RANDOM % 20))M /dev/urandom | base64 | xz -$((RANDOM % 7)) > /dev/null
    sleep $((1 + RANDOM % 5))
  done
}
sqliter() {
  while [ $SECONDS -lt $end ]; do
    python3 -c "
import sqlite3, random, time
db = sqlite3.connect('$scratch/db.sqlite')
db.execute('create table if not exists t(a integer, b text)')
t = time.time() + random.uniform(2, 8)
while time.time() < t:
    db.executemany('insert into t values (?, ?)', [(random.random(), 'x' * 200) for _ in range(2000)])
    db.commit()
db.close()
"
    rm -f "$scratch/db.sqlite"
    sleep $((1 + RANDOM % 5))
  done
}
tcp() {      # loopback transfer bursts between a python server and client
  while [ $SECONDS -lt $end ]; do
    port=$((20000 + RANDOM % 20000))
    python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(1); s.settimeout(20)
c, _ = s.accept()
while c.recv(1 << 16): pass
" &
    sleep 0.5
    python3 -c "
import socket, time, random
c = socket.create_connection(('127.0.0.1', $port))
buf = b'x' * (1 << 16)
t = time.time() + random.uniform(2, 6)
while time.time() < t: c.sendall(buf)
c.close()
" 2>/dev/null
    wait
    sleep $((1 + RANDOM % 5))
  done
}
compile & pyphases & xzer & sqliter & tcp &
wait
