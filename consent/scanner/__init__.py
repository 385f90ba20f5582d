"""The cookie scanner: what a page really sets and calls before and after consent.

``browser`` launches Chromium, ``capture`` records one page visit (cookies with who set them,
requests to other hosts), ``classify`` judges each cookie and host against the partner
catalogue, ``crawl`` walks a site's pages through the three visits (new visitor, refused,
accepted) and returns the report; ``cli`` is ``consent scan`` and ``jobs`` runs the scans the
admin starts, in a process of their own.
"""
