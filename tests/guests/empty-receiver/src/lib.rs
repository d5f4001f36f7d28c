//! The smallest receiver: accepts every notification. Used by benches.
use sightline_sdk::{AlertGroup, Receiver};
struct G;
impl Receiver for G {
    fn notify(_group: AlertGroup) -> Result<(), String> {
        Ok(())
    }
}
sightline_sdk::export_receiver!(G);
