"""Factories for tests and benchmarks, one module per kind of thing made.

- ``audience``: lists, subscribers (one or a million), suppressions, small article rows.
- ``email_stories``: long English and Chinese domain stories, issue content, branding.
- ``email_rows``: those stories and issues inserted as rows (``insert_article``, ``store_issue``).
- ``feed_stories``: domain stories for feed tests and ``upsert_article`` (stored as ingest would).
- ``sending``: a send ledger of an issue already gone out.
- ``images``: tiny image files made in code.
"""
