#!/usr/bin/env bash
# Start the machine's PostgreSQL (installing Debian's `postgresql` if missing), make sure a login role and its
# databases exist, and print the connection base `postgres://ROLE:PASSWORD@127.0.0.1:PORT` on stdout (append
# `/DBNAME`). Everything else goes to stderr. Used by .ci/run and `make bench`.
#   usage: scripts/pg_start.sh ROLE DBNAME [DBNAME...]
# The role gets a fresh random password on every call and CREATEDB (for the Django test database).
set -euo pipefail
exec 3>&1 1>&2

if [ "$#" -lt 2 ]; then
  echo "usage: $0 ROLE DBNAME [DBNAME...]"
  exit 2
fi
db_user=$1
shift

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  apt_install postgresql
fi
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^${pg_version} main$"; then
  pg_createcluster "$pg_version" main >/dev/null 3>&-
fi
if ! pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  # fd 3 is the caller's $(...) pipe: the server must not inherit it, or the caller waits for ever.
  pg_ctlcluster "$pg_version" main start 3>&-
fi
pg_port=$(pg_lsclusters -h | awk -v v="$pg_version" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p "$pg_port"

db_password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
su postgres -c "psql -q -p $pg_port -v ON_ERROR_STOP=1" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$db_user') THEN
    CREATE ROLE $db_user LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE $db_user PASSWORD '$db_password';
SQL
for db_name in "$@"; do
  if ! su postgres -c "psql -p $pg_port -tAc \"SELECT 1 FROM pg_database WHERE datname='$db_name'\"" | grep -q 1; then
    su postgres -c "createdb -p $pg_port -O $db_user $db_name"
  fi
done

echo "postgres://$db_user:$db_password@127.0.0.1:$pg_port" >&3
