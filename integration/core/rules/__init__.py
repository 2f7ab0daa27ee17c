"""The rule-file loader: every section of every file (`loader`, `sections`, `settings`),
collected across files (`collected`) and cross-checked into one `RuleSet`. Reading the files
from disk is the runtime's (`integration.runtime.rulefiles`); this package takes their text.
"""
