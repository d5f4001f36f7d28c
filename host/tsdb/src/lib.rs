//! sightline-tsdb.
