#!/usr/bin/env bash
# Workload mix A (training mix): CPU on/off burners, memory ramps, dd + sync, gzip, find,
# sort | sha256sum. Runs for $1 seconds (default 240), then stops everything it started.
set -u
secs=${1:-240}
scratch=$(mktemp -d /tmp/procperf-wl-a.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$scratch"' EXIT
end=$((SECONDS + secs))
RANDOM=1

burner() {   # CPU on for 2-8 s, off for 2-8 s
  while [ $SECONDS -lt $end ]; do
    stress-ng --cpu 1 --cpu-load $((30 + RANDOM % 70)) --timeout $((2 + RANDOM % 7))s --quiet
    sleep $((2 + RANDOM % 7))
  done
}
memramp() {  # grow RSS step by step to 100-600 MiB, hold, free
  while [ $SECONDS -lt $end ]; do
    stress-ng --vm 1 --vm-bytes $((100 + RANDOM % 500))M --vm-hang 3 --vm-keep --timeout $((4 + RANDOM % 6))s --quiet
    sleep $((1 + RANDOM % 5))
  done
}
disk() {     # write then sync then read back
  while [ $SECONDS -lt $end ]; do
    dd if=/dev/zero of="$scratch/dd.bin" bs=1M count=$((20 + RANDOM % 200)) conv=fsync status=none
    sync
    dd if="$scratch/dd.bin" of=/dev/null bs=1M status=none
    rm -f "$scratch/dd.bin"
    sleep $((1 + RANDOM % 4))
  done
}
compress() { # gzip a chunk of pseudo-random text
  while [ $SECONDS -lt $end ]; do
    head -c $((5 + RANDOM % 40))M /dev/urandom | base64 > "$scratch/gz.txt"
    gzip -$((1 + RANDOM % 9)) -c "$scratch/gz.txt" > "$scratch/gz.txt.gz"
    rm -f "$scratch/gz.txt" "$scratch/gz.txt.gz"
    sleep $((1 + RANDOM % 5))
  done
}
walker() {   # find over /usr, sort | sha256sum
  while [ $SECONDS -lt $end ]; do
    find /usr -type f -size +$((RANDOM % 64))k 2>/dev/null | sort | sha256sum > /dev/null
    sleep $((2 + RANDOM % 6))
  done
}
burner & burner & memramp & disk & compress & walker &
wait
