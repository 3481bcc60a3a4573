"""The command-line commands, one module per family; `labelcheck.cli` assembles them."""
