//! sightline-sdk: write Sightline plugins in Rust.
