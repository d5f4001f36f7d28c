//! A slow per-vector query function, `slow_echo(v instant-vector)` (or the name in config
//! `name`): touches `alloc_mib` (config, default 0) MiB, sleeps `sleep_ms` (config, default
//! 300) milliseconds, then returns its argument. Hammered over HTTP by the daemon's budget
//! tests; with `name = "rate"` it tries to shadow a built-in.
use sightline_sdk::{config, CallMode, QueryFunction, Signature, Value, ValueType};

fn num(key: &str, default: u64) -> u64 {
    config::get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct G;
impl QueryFunction for G {
    fn describe() -> Signature {
        Signature {
            name: config::get("name").unwrap_or_else(|| "slow_echo".to_string()),
            arg_types: vec![ValueType::InstantVector],
            optional_args: 0,
            return_type: ValueType::InstantVector,
            mode: CallMode::PerVector,
        }
    }
    fn call(args: Vec<Value>, _eval_time_ms: i64) -> Result<Value, String> {
        let hoard = vec![1u8; (num("alloc_mib", 0) as usize) << 20];
        std::hint::black_box(&hoard);
        std::thread::sleep(std::time::Duration::from_millis(num("sleep_ms", 300)));
        args.into_iter()
            .next()
            .ok_or_else(|| "expected one argument".to_string())
    }
}
sightline_sdk::export_query_function!(G);
