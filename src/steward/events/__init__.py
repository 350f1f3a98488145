"""The event library: event types, their parameters and service actions (R-EVT-1, R-EVT-2)."""
