#!/usr/bin/env bash
# Check the files in deploy/ without installing them: the systemd units with `systemd-analyze verify` (paths under
# /srv/jak-portal pointed at this checkout and its .venv), and the nginx site with `nginx -t`: the site and its proxy
# include are copied into a temporary prefix with a throw-away self-signed certificate and a minimal nginx.conf
# around them. Each check is skipped, with a note, when its tool is missing. Used by .ci/run; exits non-zero on any
# error or warning.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
venv=${VENV:-$PWD/.venv}
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir "$tmp/units"
  for unit in deploy/*.service deploy/*.timer; do
    sed -e "s#/srv/jak-portal/.venv#$venv#g" -e "s#/srv/jak-portal#$PWD#g" "$unit" > "$tmp/units/$(basename "$unit")"
  done
  cp "$tmp/units/jak-portal-worker@.service" "$tmp/units/jak-portal-worker@1.service"
  rm "$tmp/units/jak-portal-worker@.service"
  out=$(cd "$tmp/units" && systemd-analyze verify ./*.service ./*.timer 2>&1) || { echo "$out" >&2; exit 1; }
  if [ -n "$out" ]; then echo "$out" >&2; echo "systemd-analyze warned about deploy/" >&2; exit 1; fi
  echo "systemd units: ok"
else
  echo "systemd-analyze not installed: units not checked"
fi
if command -v logrotate >/dev/null 2>&1; then
  # Next to Debian's nginx rotation when it is there: logrotate skips a whole file that names a log another names.
  cat /etc/logrotate.d/nginx deploy/logrotate-jak-portal > "$tmp/logrotate.conf" 2>/dev/null \
    || cp deploy/logrotate-jak-portal "$tmp/logrotate.conf"
  out=$(logrotate -d -s "$tmp/logrotate.state" "$tmp/logrotate.conf" 2>&1) || { echo "$out" >&2; exit 1; }
  if grep -q '^error:' <<<"$out"; then grep '^error:' <<<"$out" >&2; exit 1; fi
  echo "logrotate: ok"
else
  echo "logrotate not installed: deploy/logrotate-jak-portal not checked"
fi
if ! command -v nginx >/dev/null 2>&1; then echo "nginx not installed: site not checked"; exit 0; fi
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=portal.clinic.example \
  -keyout "$tmp/portal.key" -out "$tmp/portal.crt" 2>/dev/null
sed -e "s#/etc/nginx/jak-portal-proxy.conf#$tmp/proxy.conf#" \
    -e "s#/etc/ssl/certs/portal.clinic.example.crt#$tmp/portal.crt#" \
    -e "s#/etc/ssl/private/portal.clinic.example.key#$tmp/portal.key#" \
    -e "s#/var/log/nginx/#$tmp/#" \
    deploy/nginx-jak-portal.conf > "$tmp/site.conf"
cp deploy/nginx-jak-portal-proxy.conf "$tmp/proxy.conf"
mkdir "$tmp/jak-portal"
cat > "$tmp/nginx.conf" <<CONF
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    include $tmp/site.conf;
}
CONF
out=$(nginx -t -p "$tmp" -c "$tmp/nginx.conf" 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out"
if grep -q '\[warn\]' <<<"$out"; then echo "nginx warned about deploy/nginx-jak-portal.conf" >&2; exit 1; fi
