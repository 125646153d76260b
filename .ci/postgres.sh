# Start a throw-away PostgreSQL cluster on loopback for the test run and export its URL.
# Sourced by .ci/run; usable by hand too: `source .ci/postgres.sh`.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
pg_port=${TRADECREW_TEST_PG_PORT:-55432}
pg_dir=$(mktemp -d /tmp/tradecrew-pg.XXXXXX)
run_as=()
if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root.
    chown postgres "$pg_dir"
    run_as=(runuser -u postgres --)
fi
"${run_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
"${run_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off -c max_connections=300" start >/dev/null
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE tradecrew_test" >/dev/null
export TRADECREW_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/tradecrew_test"
trap '"${run_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true' EXIT
