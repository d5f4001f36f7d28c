//! A contract 0.2 dashboard written against the WIT alone.
wit_bindgen::generate!({ path: "../../../wit/v0.2", world: "dashboard-plugin", generate_all });

use exports::sightline::plugin::dashboard::Guest;

struct G;

impl Guest for G {
    fn dashboard() -> Result<String, String> {
        Ok(
            r#"{"uid":"contract-v02","title":"Contract 0.2","tags":["v02"],"panels":[]}"#
                .to_string(),
        )
    }
}

export!(G);
