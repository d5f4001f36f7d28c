//! A per-series query function `scale(v instant-vector, factor scalar)`:
//! multiplies every point by the factor.
use sightline_sdk::{CallMode, QueryFunction, Signature, Value, ValueType};
struct G;
impl QueryFunction for G {
    fn describe() -> Signature {
        Signature {
            name: "scale".to_string(),
            arg_types: vec![ValueType::InstantVector, ValueType::Scalar],
            optional_args: 0,
            return_type: ValueType::InstantVector,
            mode: CallMode::PerSeries,
        }
    }
    fn call(args: Vec<Value>, _eval_time_ms: i64) -> Result<Value, String> {
        let mut it = args.into_iter();
        let (Some(Value::Vector(mut series)), Some(Value::Scalar(k))) = (it.next(), it.next())
        else {
            return Err("expected (instant-vector, scalar)".to_string());
        };
        for s in &mut series {
            for p in &mut s.points {
                p.value *= k;
            }
        }
        Ok(Value::Vector(series))
    }
}
sightline_sdk::export_query_function!(G);
