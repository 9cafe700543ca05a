#!/usr/bin/env bash
# Creates (once) the Python virtualenv used by tests/python and prints its python path on the
# last line of stdout. Re-installs only when the venv is missing or requirements.txt changed.
#   CONSULATE_PYENV  venv directory (default: target/pyenv, relative to the repo root)
#   PYTHON           interpreter used to create the venv (default: python3)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CONSULATE_PYENV:-target/pyenv}"
case "$venv" in
  /*) ;;
  *) venv="$root/$venv" ;;
esac
req="$root/tests/python/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

hash_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    "$python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  fi
}

want="$(hash_of "$req")"
have=""
if [ -f "$stamp" ]; then
  have="$(cat "$stamp")"
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "python-env: creating $venv" >&2
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >&2; then
    # Debian/Ubuntu ship venv without ensurepip unless python3-venv is installed: make a bare
    # venv and let the system pip install pip into it.
    echo "python-env: 'python3 -m venv' failed; retrying without ensurepip" >&2
    rm -rf "$venv"
    "$python" -m venv --without-pip "$venv" >&2
    "$python" -m pip --python "$venv/bin/python" install --disable-pip-version-check --quiet pip >&2
  fi
  have=""
fi

if [ "$have" != "$want" ]; then
  echo "python-env: installing $req" >&2
  rm -f "$stamp"
  # A current pip understands the newest wheel tags; an old one still works, so do not fail here.
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip >&2 \
    || echo "python-env: could not upgrade pip; using $("$venv/bin/python" -m pip --version)" >&2
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req" >&2
  echo "$want" > "$stamp"
fi

echo "$venv/bin/python"
