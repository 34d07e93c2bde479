"""roasbot's application and adapters.

`service` is the application every adapter calls; `notifications` delivers digests and alerts
through a transport; the adapters are the command line and console (`cli`), Slack (`slack`) and
the scheduler; the renderers (`text`, `charts`, `export`, `slack.blocks`) share `labels`.
"""
