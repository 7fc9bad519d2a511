"""The command line: the parser and the one place our errors become messages (main), the session
options, and every subcommand. The only layer that prints."""
