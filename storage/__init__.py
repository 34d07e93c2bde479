"""The store: schema, migrations and ingestion. Knows nothing about Slack or insights."""
