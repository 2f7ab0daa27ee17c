"""The pure core: what a ticket event is, the rule format and its loader, conditions, actions,
the engine that turns (event, rule set, now) into a plan, calendars, text matching, templates
and explanations.

Nothing here does I/O, reads the clock, or imports Flask, SQL, HTTP or a platform client
(the import-linter contracts in pyproject.toml keep it so): every input is an argument.
"""
