//! sightline-plugin-runtime.
