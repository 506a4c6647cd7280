"""HTTP surface beside Slack: the REST API, live run events, the playground, metrics."""
