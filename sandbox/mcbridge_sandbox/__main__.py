"""`python -m mcbridge_sandbox`: the sandbox's commands, without any Flask application."""

from mcbridge_sandbox.cli import sandbox

sandbox(prog_name="python -m mcbridge_sandbox")
