"""The runtime on top of the core: the database (`store`, `migrations`), the inbox queue and
the worker that plans and applies events, the deadline clock, idempotent write-back, the
platform wiring and the services a process shares. Imports the core and the adapters, never
the web side."""
