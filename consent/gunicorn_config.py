"""gunicorn settings: ``gunicorn -c python:consent.gunicorn_config`` (``make run``, production).

Threaded workers let the ledger group the commits of concurrent requests in one transaction.
The configuration is checked once in the master before any worker starts, so a bad sites.yaml
stops the service with one message instead of a traceback per worker.
"""

import os
import sys

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# A thread waiting for its group commit costs nothing but memory; the more requests wait on one
# commit, the fewer commits (fsyncs) per decision. 32 per worker measured 2-2.7x the
# throughput of 8 on POST /v1/consents (docs/BENCHMARKS.md, "Server throughput and latency").
threads = int(os.environ.get("WEB_THREADS", "32"))
keepalive = 5
timeout = 30
graceful_timeout = 10
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
wsgi_app = "consent:create_app()"
limit_request_line = 8190
limit_request_fields = 100
# Above the application's own 16 KB limit on all headers (consent/request_limits.py), so that
# an oversized request is normally answered by the service (JSON 431), not by gunicorn.
limit_request_field_size = 32768


def on_starting(server):  # noqa: ARG001 - gunicorn's hook signature
    from consent.settings import ConfigurationError, load_settings
    from consent.sites import load_sites

    try:
        load_sites(load_settings().sites_file)
    except ConfigurationError as error:
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(2)
