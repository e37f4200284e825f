"""SecuLite's command line: `python -m seculite scan PATH` (see seculite.cli)."""
