//! sightline-exposition.
