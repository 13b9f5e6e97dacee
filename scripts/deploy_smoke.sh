#!/usr/bin/env bash
# The README's "Deploying" steps 1-5 and 7 on this machine, without systemd or nginx (used by .ci/run):
# a new PostgreSQL database, an env file with every production variable, migrate, collectstatic, the catalogue,
# a superuser and an enrolment code, gunicorn with deploy/gunicorn.conf.py on a loopback port, readiness and a
# page, a graceful reload (SIGHUP) under load, two job workers running the reminders job once, then `manage.py backup` and `verify_backup` into a second new
# database. Everything it starts it stops.   usage: scripts/deploy_smoke.sh VENV
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:?usage: $0 VENV}
role=jak_deploy_smoke db=jak_deploy_smoke restore_db=jak_deploy_smoke_restore
port=${DEPLOY_SMOKE_PORT:-18461}
work=$(mktemp -d)
gunicorn_pid=""
worker_pids=()
cleanup() {
  for pid in "${worker_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ -n "$gunicorn_pid" ]; then kill -TERM "$gunicorn_pid" 2>/dev/null || true; wait "$gunicorn_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Step 2: a role and empty databases (dropped first, so a second run starts fresh too).
for name in "$db" "$restore_db"; do su postgres -c "dropdb --if-exists --force $name" 2>/dev/null || true; done
pg_base=$(bash scripts/pg_start.sh "$role" "$db" "$restore_db")

# Step 3: the env file, every variable production needs; loaded the way the README's portal() helper does.
cat > "$work/env" <<ENV
DATABASE_URL=$pg_base/$db
DJANGO_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')
PORTAL_TOTP_KEY=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
DJANGO_ALLOWED_HOSTS=portal.clinic.example
PORTAL_BASE_URL=https://portal.clinic.example
PORTAL_TRUSTED_PROXIES=127.0.0.1
DEFAULT_FROM_EMAIL="JAK Portal <noreply@clinic.example>"
PORTAL_GUNICORN_BIND=127.0.0.1:$port
PORTAL_GUNICORN_WORKERS=2
ENV
set -a
# shellcheck disable=SC1091
. "$work/env"
set +a
unset PORTAL_DEMO DJANGO_DEBUG
portal() { "$venv/bin/python" manage.py "$@"; }

# Step 4.
portal migrate --no-input -v 0
portal collectstatic --no-input -v 0
portal setup_demo >/dev/null
DJANGO_SUPERUSER_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))') \
  portal createsuperuser --no-input --username it-admin --email it-admin@clinic.example
portal issue_enrolment_code it-admin | grep -q "Enrolment code for it-admin"
portal check --deploy --fail-level WARNING

# Step 5 without systemd: what jak-portal.service runs.
"$venv/bin/gunicorn" -c deploy/gunicorn.conf.py 2>"$work/gunicorn.log" &
gunicorn_pid=$!
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz/ready")" = 200 ]; }
for _ in $(seq 1 60); do ready && break; sleep 0.5; done
ready || { echo "readiness never turned 200" >&2; cat "$work/gunicorn.log" >&2; exit 1; }
curl -s "http://127.0.0.1:$port/healthz/ready"; echo

# Step 7: a page through the "proxy" headers nginx sets, and a static file (WhiteNoise, from STATIC_ROOT).
page() {
  curl -s -o /dev/null -w '%{http_code}' -H 'Host: portal.clinic.example' -H 'X-Forwarded-Proto: https' \
    "http://127.0.0.1:$port$1"
}
[ "$(page /accounts/login/)" = 200 ] || { echo "the log-in page did not answer 200" >&2; exit 1; }
static=$(cd var/staticfiles && find . -name '*.css' -path './css/*' | head -n 1)
[ "$(page "/static/${static#./}")" = 200 ] || { echo "static file $static not served" >&2; exit 1; }

# The upgrade's reload: SIGHUP while requests keep coming; none may fail.
( fails=0; for _ in $(seq 1 40); do [ "$(page /accounts/login/)" = 200 ] || fails=$((fails + 1)); sleep 0.05; done
  echo "$fails" > "$work/reload_fails" ) &
load_pid=$!
sleep 0.3
kill -HUP "$gunicorn_pid"
wait "$load_pid"
[ "$(cat "$work/reload_fails")" = 0 ] || { echo "$(cat "$work/reload_fails") requests failed during the reload" >&2; exit 1; }
ready || { echo "not ready after the reload" >&2; exit 1; }
echo "gunicorn reloaded without a failed request"

# Two job workers, as jak-portal-worker@1 and @2 run them: both schedule the periodic jobs, and the reminders job
# must be enqueued and run exactly once (the unique period row and the outbox keys; README "Jobs").
for n in 1 2; do
  "$venv/bin/python" manage.py db_worker --queue-name '*' --worker-id "smoke-$n" 2>"$work/worker-$n.log" &
  worker_pids+=($!)
done
reminder_runs() {
  portal shell --no-imports -v 0 -c "from django_tasks_db.models import DBTaskResult as R; \
print(R.objects.filter(task_path__endswith='send_reminders_job', status='SUCCESSFUL').count(), \
R.objects.filter(task_path__endswith='send_reminders_job').count())"
}
for _ in $(seq 1 60); do [ "$(reminder_runs)" = "1 1" ] && break; sleep 0.5; done
[ "$(reminder_runs)" = "1 1" ] || { echo "reminder job runs (done, all): $(reminder_runs)" >&2; cat "$work"/worker-*.log >&2; exit 1; }
sleep 2  # a second worker that was going to run it again would have by now
[ "$(reminder_runs)" = "1 1" ] || { echo "the reminder job ran twice: $(reminder_runs)" >&2; exit 1; }
for pid in "${worker_pids[@]}"; do kill -TERM "$pid"; wait "$pid"; done
worker_pids=()
echo "two workers: the reminder job ran once"

# Backups and restore.
portal backup --output "$work/backups"
dump=$(ls "$work"/backups/jak-portal-*.dump)
portal verify_backup "$dump" --database-url "$pg_base/$restore_db"

kill -TERM "$gunicorn_pid"; wait "$gunicorn_pid" || true; gunicorn_pid=""
for name in "$db" "$restore_db"; do su postgres -c "dropdb --if-exists --force $name"; done
echo "deploy procedure: ok"
