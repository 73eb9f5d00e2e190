#!/usr/bin/env bash
# Does the package work as users install it? Builds a wheel of this checkout, installs it (not
# editable, with the `ko` extra) into a fresh virtual environment in a temporary directory, and
# runs the product from that directory, where the source tree cannot be imported:
#   voice-agent db init --demo, a typed call that pays (chat --json), payments list, voice-agent demo.
# An editable install finds data next to the sources; this finds what a wheel forgot to carry.
# PYTHON builds the wheel and the venv (default .venv/bin/python); KEEP=1 keeps the temp directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/voice-agent-wheel-XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
unset PYTHONPATH VOICE_AGENT_CONFIG
STEP=""
fail() { echo "check_wheel: FAILED at: $STEP${1:+ - $1}" >&2; exit 1; }
trap 'fail' ERR
step() { STEP=$1; echo "check_wheel: $1"; }

step "build the wheel"
# From a copy of the checkout's own files (tracked and new, not ignored), so a stale build/ or
# egg-info left in the tree cannot slip files into the wheel.
mkdir "$WORK/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard \
    | tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$WORK/src"
else
  cp -a "$ROOT/." "$WORK/src"
fi
"$PYTHON" -m pip wheel -q --no-deps -w "$WORK/dist" "$WORK/src" >"$WORK/build.log" 2>&1 \
  || { cat "$WORK/build.log" >&2; fail "pip wheel"; }
WHEEL=$(ls "$WORK"/dist/voice_agent-*.whl)
"$PYTHON" - "$WHEEL" "$WORK/src" <<'EOF' || fail "the wheel lacks the language files"
import sys, zipfile
from pathlib import Path
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
src = Path(sys.argv[2])
need = sorted(str(p.relative_to(src)) for p in (src / "voice_agent" / "locales").rglob("*")
              if p.is_file())
missing = [n for n in need if n not in names]
if not need or missing:
    sys.exit(f"missing in {sys.argv[1]}: {missing or 'voice_agent/locales/'}")
EOF

step "install it (not editable, with the ko extra) into a fresh venv"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q "voice_agent[ko] @ file://$WHEEL" >"$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log" >&2; fail "pip install"; }
mkdir "$WORK/run" && cd "$WORK/run"          # not the repo: only the installed package is importable
VA="$WORK/venv/bin/voice-agent"
where=$("$WORK/venv/bin/python" -c "import voice_agent; print(voice_agent.__file__)")
case "$where" in "$WORK/venv/"*) ;; *) fail "voice_agent imported from $where, not the venv";; esac

step "voice-agent db init --demo"
"$VA" db init --demo --db wheel.db >/dev/null

step "a typed call that pays (chat --json)"
printf '%s\n' english 'pay my bill' 'dtmf:100200300#' 'dtmf:4321#' 'the full balance' \
  'a new credit card' 'dtmf:5555555555554444#' 'dtmf:1230#' yes no "no that's all" \
  | "$VA" chat --db wheel.db --json >chat.jsonl
outcome=$("$WORK/venv/bin/python" -c \
  "import json; print(json.loads(open('chat.jsonl').read().splitlines()[-1]).get('outcome'))")
[ "$outcome" = paid ] || { tail -n 3 chat.jsonl >&2; fail "outcome $outcome, expected paid"; }

step "voice-agent payments list shows the payment"
"$VA" payments list --db wheel.db >payments.txt
grep -q 100200300 payments.txt || { cat payments.txt >&2; fail "no payment for 100200300"; }

step "voice-agent demo"
# Without a sound card (CI) the demo is a recorded Korean call; the timeout keeps a kiosk that
# found a microphone from waiting for a caller for ever.
rc=0; timeout 600 "$VA" demo </dev/null >demo.txt 2>&1 || rc=$?
[ "$rc" = 0 ] || { tail -n 20 demo.txt >&2; fail "exit status $rc"; }
grep -q "call outcome" demo.txt || { tail -n 20 demo.txt >&2; fail "no outcome reported"; }
grep "call outcome" demo.txt | sed 's/^/check_wheel: /'

trap - ERR
echo "check_wheel: OK in ${SECONDS}s ($(basename "$WHEEL") in a fresh venv: chat paid, demo ran)"
