//! sightline-api.
