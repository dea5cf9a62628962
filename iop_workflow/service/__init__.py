"""The service layer: the one set of functions that the CLI, the flows and the tests call."""
