# Progress of long scripts (tests/run-mutants, model-checks/run-mutants, bench/run,
# bench/run-threads, fuzz/run) on stderr, sourced by them:
#
#   progress_start NAME TOTAL UNIT    # before the work: TOTAL units of UNIT (`steps`)
#   progress_doing WHAT               # what runs now (shown as `now: WHAT`)
#   progress_step                     # after each unit
#   progress_stop                     # at the end
#
# A background ticker prints `NAME: DONE/TOTAL UNIT, RATE, ELAPSED elapsed, about LEFT left
# (now: WHAT)` every PROGRESS_EVERY seconds: 10 on a terminal, 30 into a file or a CI log (a
# line each time, so a 20-minute run adds 40 lines to the log, not thousands); 0 turns it off.
# Nothing is printed for work that ends before the first tick. The time left assumes the
# remaining units take as long, on average, as the ones done. tests/src/progress.rs prints the
# same lines from inside the test suites (the differential properties).

# 75 -> 1m15s, 3725 -> 1h02m.
progress_duration() {
  local s=$1
  if [ "$s" -ge 3600 ]; then printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60))
  elif [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60))
  else printf '%ds' "$s"; fi
}

# DONE units in S seconds as units per second, minute or hour, whichever is at least 1 (`25/s`,
# `1.3/min`, `0.9/h` below one an hour), one decimal below 10; nothing before the first second.
progress_rate() {
  local done=$1 s=$2 per scale t
  [ "$done" -gt 0 ] && [ "$s" -gt 0 ] || return 0
  for per in s:1 min:60 h:3600; do
    scale=${per#*:} per=${per%:*}
    [ $((done * scale)) -lt "$s" ] || break
  done
  t=$((done * scale * 10 / s))
  if [ $t -lt 100 ]; then printf '%d.%d/%s' $((t / 10)) $((t % 10)) "$per"; else printf '%d/%s' $((t / 10)) "$per"; fi
}

# The line for DONE units and WHAT at time NOW (seconds since the epoch).
progress_line() {
  local done=$1 what=$2 now=$3
  local elapsed=$((now - _progress_started)) left="time left unknown"
  if [ "$done" -gt 0 ]; then
    left="about $(progress_duration $((elapsed * (_progress_total - done) / done))) left"
  fi
  local rate; rate=$(progress_rate "$done" "$elapsed")
  printf '%s: %s/%s %s%s, %s elapsed, %s' "$_progress_name" "$done" "$_progress_total" "$_progress_unit" \
    "${rate:+, $rate}" "$(progress_duration "$elapsed")" "$left"
  [ -z "$what" ] || printf ' (now: %s)' "$what"
  printf '\n'
}

progress_start() {
  _progress_name=$1 _progress_total=$2 _progress_unit=$3 _progress_done=0 _progress_what=
  _progress_started=$(date +%s)
  _progress_state=$(mktemp)
  _progress_ticker=
  echo "0|" > "$_progress_state"
  local every=${PROGRESS_EVERY:-}
  if [ -z "$every" ]; then if [ -t 2 ]; then every=10; else every=30; fi; fi
  [ "$every" != 0 ] || return 0
  local parent=$BASHPID
  (
    trap - EXIT
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "$every" & nap=$!
      wait "$nap"
      # The script may have ended without progress_stop (an error under `set -e`).
      kill -0 "$parent" 2>/dev/null || exit 0
      IFS='|' read -r done what < "$_progress_state" || continue
      progress_line "$done" "$what" "$(date +%s)" >&2
    done
  ) &
  _progress_ticker=$!
}

progress_doing() {
  _progress_what=$1
  progress_save
}

progress_step() {
  _progress_done=$((_progress_done + 1))
  progress_save
}

# The ticker reads the state from a file: it runs in a subshell of its own.
progress_save() {
  printf '%s|%s\n' "$_progress_done" "$_progress_what" > "$_progress_state.new" && mv "$_progress_state.new" "$_progress_state"
}

progress_stop() {
  [ -z "${_progress_ticker:-}" ] || kill "$_progress_ticker" 2>/dev/null || true
  _progress_ticker=
  rm -f "${_progress_state:-}" "${_progress_state:-}.new"
}
