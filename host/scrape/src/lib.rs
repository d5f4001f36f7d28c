//! sightline-scrape.
