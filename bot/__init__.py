"""The application: settings, the command line (``python -m bot``), wiring and channel adapters."""
