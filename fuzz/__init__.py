"""`make fuzz`: seeded mutations of the sample media for `labelcheck check` (fuzz.mutate), and an HTTP fuzz of
`labelcheck serve` built on schemathesis plus hostile cases (fuzz.http). Run the modules with `python -m`, from the
repository's root: `python -m fuzz.mutate --help`, `python -m fuzz.http --help` (the HTTP fuzz only inside a network
namespace with loopback alone: `make fuzz` starts it so)."""
