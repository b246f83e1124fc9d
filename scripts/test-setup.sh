#!/usr/bin/env bash
# Prepares this machine for the test suite: sipp (Debian package sip-tester) for the SIP tests,
# rtpengine (Debian package rtpengine-daemon; each media test file starts its own) for the ringback
# tones the caller hears, Chromium (Debian package chromium) for the browser tests, curl for the README's examples, and a
# Redis answering on 127.0.0.1:6379. Safe to run again; installs only what is missing.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if ! command -v sipp >/dev/null 2>&1; then
  echo "test-setup: installing sip-tester (sipp)"
  apt_install sip-tester
fi
if ! command -v rtpengine >/dev/null 2>&1; then
  echo "test-setup: installing rtpengine-daemon (rtpengine)"
  apt_install rtpengine-daemon
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "test-setup: installing chromium"
  apt_install chromium
fi
if ! command -v curl >/dev/null 2>&1; then
  echo "test-setup: installing curl"
  apt_install curl
fi
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "test-setup: installing redis-server"
  apt_install redis-server redis-tools
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "test-setup: starting redis-server on 127.0.0.1:6379"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
fi
echo "test-setup: sipp $(sipp -v 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -1), rtpengine $(rtpengine --version 2>&1 | grep -o '[0-9][0-9.]*' | head -1), $(/usr/bin/chromium --version 2>/dev/null | head -1), redis $(redis-cli -h 127.0.0.1 -p 6379 info server | grep -o 'redis_version:[0-9.]*' | cut -d: -f2)"
