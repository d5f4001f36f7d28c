//! Sightline's integration tests: one binary.
