"""Rule files: located YAML (`nodes`), validators (`schema`), problems, and the `loader`.

Import `integration.core.rules.loader` for `load_ruleset` / `check_rules`; this package module
stays empty so conditions and actions can import the small parts without cycles.
"""
