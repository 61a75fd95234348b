#!/usr/bin/env bash
# Installs dependencies, builds, and starts cloudkitd in the background on its
# defaults (loopback endpoint, default data dir), then waits until
# `cloudkit status` answers. Idempotent: when a daemon already answers, it says
# so and starts nothing.
#
# Usage: scripts/start.sh
# Environment:
#   CLOUDKIT_START_TIMEOUT  seconds to wait for the daemon to answer (default 30)
# Files (in the daemon's default data dir,
#        ${XDG_DATA_HOME:-$HOME/.local/share}/cloudkit):
#   cloudkitd.log  the daemon's stderr and stdout, appended to
#   cloudkitd.pid  the pid of the daemon this script started
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

scripts/build.sh

DAEMON=$ROOT/build/bin/cloudkitd
CLI=$ROOT/build/bin/cloudkit
DATA_DIR=${XDG_DATA_HOME:-$HOME/.local/share}/cloudkit
LOG_FILE=$DATA_DIR/cloudkitd.log
PID_FILE=$DATA_DIR/cloudkitd.pid
TIMEOUT=${CLOUDKIT_START_TIMEOUT:-30}

say() { printf 'start.sh: %s\n' "$*"; }

answering() { "$CLI" status >/dev/null 2>&1; }

# Whether process $1 exists and has not exited (a zombie nobody reaped yet,
# common in containers, still answers kill -0).
alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# The pid in the pid file, if that process is still a running cloudkitd.
running_pid() {
  local pid
  [[ -r $PID_FILE ]] || return 1
  pid=$(tr -dc '0-9' <"$PID_FILE")
  [[ -n $pid ]] && alive "$pid" || return 1
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == cloudkitd* ]] || return 1
  echo "$pid"
}

# Waits until the daemon answers; fails early if process $1 (when given) exits.
wait_ready() {
  local pid=${1:-} deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    answering && return 0
    if [[ -n $pid ]] && ! alive "$pid"; then
      return 2
    fi
    sleep 0.2
  done
  answering
}

usage() {
  cat <<USAGE

Use it with the CLI:
  $CLI status          # daemon, bindings, health
  $CLI --help          # every command
Log:      $LOG_FILE
Stop it:  kill \$(cat $PID_FILE)    # SIGTERM: clean shutdown
USAGE
}

if answering; then
  if pid=$(running_pid); then
    say "cloudkitd is already running (pid $pid) and answering; not starting another."
  else
    say "a cloudkitd is already running and answering (not started by this script); not starting another."
  fi
  usage
  exit 0
fi

if pid=$(running_pid); then
  # Ours, alive, but not answering yet: maybe still starting.
  say "cloudkitd (pid $pid) is running but not answering yet; waiting up to ${TIMEOUT}s"
  if wait_ready "$pid"; then
    say "cloudkitd (pid $pid) is answering."
    usage
    exit 0
  fi
  say "cloudkitd (pid $pid) does not answer; not starting another. Last log lines ($LOG_FILE):"
  tail -n 20 "$LOG_FILE" 2>/dev/null || true
  say "stop it with: kill $pid"
  exit 1
fi

mkdir -p "$DATA_DIR"
chmod 0700 "$DATA_DIR"
rm -f "$PID_FILE"
printf '\n==== %s start.sh: starting %s\n' "$(date -Is)" "$DAEMON" >>"$LOG_FILE"

# Its own session (setsid), so Ctrl-C or closing this terminal does not reach
# it; the wrapper records its own pid and then becomes cloudkitd (exec).
# shellcheck disable=SC2016  # $$ and $1 are for the inner shell
setsid bash -c 'echo $$ >"$1"; exec "$2"' start-cloudkitd "$PID_FILE" "$DAEMON" \
  </dev/null >>"$LOG_FILE" 2>&1 &

# The pid file appears as soon as the wrapper runs.
for _ in $(seq 50); do
  [[ -s $PID_FILE ]] && break
  sleep 0.1
done
pid=$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)
if [[ -z $pid ]]; then
  say "could not start $DAEMON (no pid file $PID_FILE)"
  exit 1
fi

say "started cloudkitd (pid $pid); waiting up to ${TIMEOUT}s for it to answer"
status=0
wait_ready "$pid" || status=$?
if ((status == 0)); then
  say "cloudkitd is running (pid $pid) and answering."
  usage
  exit 0
fi
if ((status == 2)); then
  say "cloudkitd exited during start-up. Last log lines ($LOG_FILE):"
  rm -f "$PID_FILE"
else
  say "cloudkitd (pid $pid) did not answer within ${TIMEOUT}s; it is still running. Last log lines ($LOG_FILE):"
fi
tail -n 20 "$LOG_FILE" 2>/dev/null || true
exit 1
