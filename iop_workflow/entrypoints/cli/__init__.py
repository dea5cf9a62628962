"""The `iop` command: `main` holds the application and the agreement commands; the
flows', notifications' and steps' commands register themselves on it; `support` holds
what they share (options, output, errors → exit codes)."""
