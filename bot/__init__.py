"""roasbot's adapters: the command line (and, later, Slack and the console)."""
