#!/usr/bin/env bash
# Installs the system packages the tests and the benchmark talk to, when they are missing: a real
# OpenSSH server and client, TinySSH, MariaDB, headless Chromium, Xvfb, GNU time (the benchmark's start-up memory), and the client tools used as real peers. Needs root (or does nothing
# and lets the tests say what is missing).
set -euo pipefail
need=()
command -v /usr/sbin/sshd >/dev/null || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v curl >/dev/null || need+=(curl)
command -v socat >/dev/null || need+=(socat)
command -v iperf3 >/dev/null || need+=(iperf3)
command -v /usr/bin/time >/dev/null || need+=(time)
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb >/dev/null || need+=(mariadb-client)
command -v chromium >/dev/null || need+=(chromium)
command -v python3 >/dev/null || need+=(python3)
command -v ss >/dev/null || need+=(iproute2)
# --route writes nftables rules (inside test namespaces only); --dns is tested against dnsmasq.
command -v nft >/dev/null || need+=(nftables)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdpyinfo >/dev/null || need+=(x11-utils)
command -v xauth >/dev/null || need+=(xauth)
command -v Xvnc >/dev/null || need+=(tigervnc-standalone-server)
command -v vsftpd >/dev/null || need+=(vsftpd)
command -v dovecot >/dev/null || need+=(dovecot-imapd dovecot-pop3d)
command -v script >/dev/null || need+=(bsdutils)
# fwd man's page is checked with groff's warnings and read back through man -l.
command -v groff >/dev/null || need+=(groff-base)
command -v man >/dev/null || need+=(man-db)
# Completion scripts are run in the real shells.
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
command -v ssh-agent >/dev/null || need+=(openssh-client)
# TinySSH speaks only chacha20-poly1305; tcpserver runs it per connection.
command -v /usr/sbin/tinysshd >/dev/null || need+=(tinysshd)
command -v tcpserver >/dev/null || need+=(ucspi-tcp)
# systemd-analyze checks the units `fwd service` prints, systemd-notify reports readiness (nothing is started).
command -v systemd-analyze >/dev/null || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-deps: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
  echo "test-deps: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages that start a service on install (vsftpd) must not: the tests start their own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
# sshd started by root refuses to run without its privilege-separation directory.
if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi
