"""Tools from MCP servers: their configuration (`config`), one client per server kept up by a
background loop (`clients`), and their tools as Crane tools (`tools`)."""
