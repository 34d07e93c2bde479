"""The Slack adapter: Bolt app, listeners, Block Kit, uploads. The only package importing Slack."""
