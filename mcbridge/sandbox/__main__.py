"""`python -m mcbridge.sandbox`: the same commands as `flask mcbridge sandbox`."""

from mcbridge.sandbox.cli import sandbox

sandbox(prog_name="python -m mcbridge.sandbox")
