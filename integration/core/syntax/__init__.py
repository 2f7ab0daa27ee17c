"""The rule files' syntax, shared by the loader, conditions and actions: YAML nodes that keep
their file, line and column (`nodes`), located problems (`problems`), small validators with
did-you-mean (`schema`) and the context a parser reports into (`context`)."""
