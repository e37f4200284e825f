"""Scanner plugins: one folder per tool (plugin.py, parser.py, tests/), the contract in base.py
and the registry in registry.py. Adding a scanner means adding one folder and nothing else."""
