#!/bin/sh
# SecuLite process launcher: the image's ENTRYPOINT (/app/entrypoint.sh) and usable natively from
# the repository (backend/entrypoint.sh web). The first argument picks the process:
#
#   migrate        wait for the database and broker, apply migrations, collect static files and
#                  create the first administrator (DJANGO_SUPERUSER_*); one-shot, once per deployment
#   web            Gunicorn serving seculite_api.wsgi
#   worker         Celery worker (queues default,scans)
#   beat           Celery beat with SecuLite's DatabaseScheduler (run exactly one)
#   flower         Celery Flower monitoring UI (basic auth from FLOWER_BASIC_AUTH)
#   backup         a backup now (when due), then every SECULITE_BACKUP_INTERVAL_SECONDS, keeping
#                  the newest SECULITE_BACKUP_KEEP archives in SECULITE_BACKUP_DIR (docs/operations.md)
#   manage ARGS    python manage.py ARGS
#   anything else  executed as given (e.g. `sh`, `celery -A seculite_api inspect ping`)
#
# python, celery and gunicorn come from PATH: the image puts its virtualenv's bin first on PATH.
# The database and broker are checked with `manage.py wait_for_db` (never psql).
set -eu

cd "$(dirname -- "$0")"

: "${DJANGO_SETTINGS_MODULE:=seculite_api.settings.production}"
export DJANGO_SETTINGS_MODULE

wait_for_db() {
    python manage.py wait_for_db --timeout "${WAIT_FOR_DB_TIMEOUT:-60}"
}

if [ "$#" -eq 0 ]; then
    set -- web
fi

process="$1"
shift

case "$process" in
    migrate)
        wait_for_db
        python manage.py migrate --noinput
        python manage.py collectstatic --noinput
        # Idempotent: creates an administrator only when there is none (see ensure_admin).
        python manage.py ensure_admin
        # Record which scanners this image has, and their versions.
        python manage.py sync_tools --detect-versions
        ;;
    web)
        wait_for_db
        # Gunicorn's worker heartbeat file: in memory when /dev/shm exists (a file on the
        # container's overlay filesystem can block workers), Gunicorn's default otherwise.
        worker_tmp_dir="${GUNICORN_WORKER_TMP_DIR:-/dev/shm}"
        if [ -d "$worker_tmp_dir" ] && [ -w "$worker_tmp_dir" ]; then
            set -- --worker-tmp-dir "$worker_tmp_dir" "$@"
        fi
        # The access log carries nginx's X-Request-ID, to follow one request through both logs.
        access_log_format='%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms rid=%({x-request-id}i)s'
        # seculite_api/gunicorn_conf.py: JSON logs (SECULITE_LOG_FORMAT) and request metrics
        # shared by all workers (SECULITE_METRICS_DIR); the options below win over it.
        exec gunicorn seculite_api.wsgi:application \
            --config seculite_api/gunicorn_conf.py \
            --bind "${GUNICORN_BIND:-0.0.0.0:8000}" \
            --workers "${GUNICORN_WORKERS:-4}" \
            --timeout "${GUNICORN_TIMEOUT:-60}" \
            --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}" \
            --keep-alive "${GUNICORN_KEEPALIVE:-5}" \
            --max-requests "${GUNICORN_MAX_REQUESTS:-1000}" \
            --max-requests-jitter "${GUNICORN_MAX_REQUESTS_JITTER:-100}" \
            --access-logfile - \
            --access-logformat "$access_log_format" \
            --error-logfile - \
            --forwarded-allow-ips "${GUNICORN_FORWARDED_ALLOW_IPS:-*}" \
            "$@"
        ;;
    worker)
        wait_for_db
        # --quiet: no start-up banner, so that the process writes log lines only.
        exec celery -A seculite_api --quiet worker \
            -Q "${CELERY_WORKER_QUEUES:-default,scans}" \
            -c "${CELERY_WORKER_CONCURRENCY:-2}" \
            -n "${CELERY_WORKER_NAME:-worker@%h}" \
            -l "${CELERY_LOG_LEVEL:-INFO}" \
            "$@"
        ;;
    beat)
        wait_for_db
        # A pid file left by a killed container would make beat refuse to start.
        rm -f "${CELERY_BEAT_PIDFILE:-/tmp/celerybeat.pid}"
        exec celery -A seculite_api --quiet beat \
            -l "${CELERY_LOG_LEVEL:-INFO}" \
            -S apps.core.beat:DatabaseScheduler \
            --pidfile="${CELERY_BEAT_PIDFILE:-/tmp/celerybeat.pid}" \
            "$@"
        ;;
    flower)
        if [ -n "${FLOWER_BASIC_AUTH:-}" ]; then
            set -- "--basic-auth=${FLOWER_BASIC_AUTH}" "$@"
        else
            echo "entrypoint: FLOWER_BASIC_AUTH is not set: Flower runs without authentication." >&2
        fi
        exec celery -A seculite_api flower --port="${FLOWER_PORT:-5555}" "$@"
        ;;
    backup)
        python manage.py wait_for_db --skip-broker --timeout "${WAIT_FOR_DB_TIMEOUT:-60}"
        exec python manage.py backup --every "${SECULITE_BACKUP_INTERVAL_SECONDS:-86400}" "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$process" "$@"
        ;;
esac
