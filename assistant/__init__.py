"""The assistant: retrieval, cited answers, the service the CLI and the UI call."""
