//! sightline-promql.
