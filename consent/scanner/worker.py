"""``python -m consent.scanner.worker SCAN_ID``: run one scan the admin queued, then exit.

Started by :func:`consent.scanner.jobs.start` with the web application's settings in its
environment; it builds the same application, so it reads the same database and sites.yaml.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m consent.scanner.worker SCAN_ID", file=sys.stderr)
        return 2
    from consent import create_app
    from consent.extensions import db
    from consent.scanner.jobs import run

    app = create_app()
    with app.app_context():
        scan = run(db.session, int(argv[0]))
        status = scan.status if scan is not None else "missing"
        db.session.remove()
    app.extensions["consent"].ledger.close()
    print(f"scan {argv[0]}: {status}", flush=True)
    return 0 if status == "done" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
