"""Tools from MCP servers: their configuration (`config`), one client per server kept up by a
background loop (`clients`), and their tools as Crane tools (`tools`)."""

# what a step says when its MCP tool is gone (here: core.execution imports it without the SDK)
GONE = "tool no longer available"
