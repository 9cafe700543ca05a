#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use is up: ${CONSULATE_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}.
# Starts a local cluster if it is installed but stopped, installs Debian's postgresql if it is
# missing (as root), creates the database if needed, and drops schemas left by earlier test runs.
# Exits non-zero when PostgreSQL cannot be made reachable: the tests need it and never skip it.
set -euo pipefail

url="${CONSULATE_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}"
host=127.0.0.1
port=5432
db=test
user=postgres

ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "postgres.sh: installing PostgreSQL from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  else
    echo "postgres.sh: PostgreSQL client tools are missing and cannot be installed here" >&2
    exit 1
  fi
fi

if ! ready; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "postgres.sh: starting PostgreSQL $version" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi

if ! ready; then
  echo "postgres.sh: PostgreSQL is not reachable at $host:$port (tests need $url)" >&2
  exit 1
fi

if ! psql -h "$host" -p "$port" -U "$user" -d "$db" -Atqc 'select 1' >/dev/null 2>&1; then
  psql -h "$host" -p "$port" -U "$user" -d postgres -qc "CREATE DATABASE $db" >/dev/null
fi

# Schemas of earlier test runs (t_<uuid>) are dropped so the database does not grow forever.
psql -h "$host" -p "$port" -U "$user" -d "$db" -qAt <<'SQL' >/dev/null
DO $$
DECLARE s text;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname ~ '^t_[0-9a-f]{32}$' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
END $$;
SQL
echo "postgres.sh: PostgreSQL ready at $host:$port/$db" >&2
