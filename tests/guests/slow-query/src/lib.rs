//! A slow per-vector query function `slow_echo(v instant-vector)`: sleeps `sleep_ms` (config,
//! default 300) milliseconds, then returns its argument.
use sightline_sdk::{config, CallMode, QueryFunction, Signature, Value, ValueType};
struct G;
impl QueryFunction for G {
    fn describe() -> Signature {
        Signature {
            name: "slow_echo".to_string(),
            arg_types: vec![ValueType::InstantVector],
            optional_args: 0,
            return_type: ValueType::InstantVector,
            mode: CallMode::PerVector,
        }
    }
    fn call(args: Vec<Value>, _eval_time_ms: i64) -> Result<Value, String> {
        let ms = config::get("sleep_ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        std::thread::sleep(std::time::Duration::from_millis(ms));
        args.into_iter()
            .next()
            .ok_or_else(|| "expected one argument".to_string())
    }
}
sightline_sdk::export_query_function!(G);
