#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1, run the given command with
# SALESOPS_TEST_PG_URL and SALESOPS_DB_PASSWORD set, then stop the server.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ]; then echo "PostgreSQL is not installed (scripts/system-deps.sh installs it)" >&2; exit 1; fi
dir=$(mktemp -d /tmp/salesops-pg.XXXXXX)
port=${SALESOPS_TEST_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}
password="pw-$RANDOM$RANDOM"
run_as=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; run_as=(runuser -u postgres --); fi
printf '%s\n' "$password" > "$dir/pwfile"; chmod 600 "$dir/pwfile"; [ ${#run_as[@]} -eq 0 ] || chown postgres "$dir/pwfile"
"${run_as[@]}" "$bin/initdb" -D "$dir/data" -U salesops -A scram-sha-256 --pwfile="$dir/pwfile" >"$dir/initdb.log" 2>&1
"${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
cleanup() { "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
PGPASSWORD="$password" "$bin/createdb" -h 127.0.0.1 -p "$port" -U salesops salesops
export SALESOPS_TEST_PG_URL="postgresql+psycopg2://salesops@127.0.0.1:$port/salesops"
export SALESOPS_DB_PASSWORD="$password"
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
