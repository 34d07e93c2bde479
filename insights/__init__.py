"""The analytics engine: queries in, typed results out. Never imports Slack."""
