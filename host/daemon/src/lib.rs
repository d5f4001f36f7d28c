//! sightline-daemon.
