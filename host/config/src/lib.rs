//! sightline-config.
