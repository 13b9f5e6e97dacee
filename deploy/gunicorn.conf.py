"""gunicorn settings for JAK Portal (README "Deploying"); read by deploy/jak-portal.service with -c.

Values can be overridden on the command line or with GUNICORN_CMD_ARGS. No --preload: on `systemctl reload`
(SIGHUP) the new workers import the new code while the old ones finish their requests, so an upgrade drops none.
"""

import os

bind = os.environ.get("PORTAL_GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("PORTAL_GUNICORN_WORKERS", "3"))
wsgi_app = "portal.wsgi:application"
# A worker busy longer than this is killed and restarted; nginx's proxy_read_timeout is a little longer, so the
# client gets gunicorn's answer rather than a gateway timeout.
timeout = 60
# On reload or stop, workers get this long to finish the requests they have.
graceful_timeout = 30
keepalive = 5
# gunicorn's access log writes raw request lines with query strings; portal.access logs each request without them.
accesslog = None
errorlog = "-"
# Only nginx on this machine may set X-Forwarded-Proto (the portal reads X-Forwarded-For itself, through
# PORTAL_TRUSTED_PROXIES).
forwarded_allow_ips = "127.0.0.1,::1"
# gunicorn 25+ opens a control socket under $HOME (the read-only code directory here); systemd reloads and stops
# gunicorn with signals instead.
control_socket_disable = True
