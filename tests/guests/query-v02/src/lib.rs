//! A contract 0.2 query function written against the WIT alone: `double_v02(v)` doubles
//! each sample of an instant vector, one series per call.
wit_bindgen::generate!({ path: "../../../wit/v0.2", world: "query-function-plugin", generate_all });

use exports::sightline::plugin::query_function::Guest;
use sightline::plugin::promql::{CallMode, Signature, Value, ValueType};

struct G;

impl Guest for G {
    fn describe() -> Signature {
        Signature {
            name: "double_v02".to_string(),
            arg_types: vec![ValueType::InstantVector],
            optional_args: 0,
            return_type: ValueType::InstantVector,
            mode: CallMode::PerSeries,
        }
    }

    fn call(args: Vec<Value>, _eval_time_ms: i64) -> Result<Value, String> {
        match args.into_iter().next() {
            Some(Value::Vector(mut series)) => {
                for s in &mut series {
                    for p in &mut s.points {
                        p.value *= 2.0;
                    }
                }
                Ok(Value::Vector(series))
            }
            _ => Err("double_v02 takes an instant vector".to_string()),
        }
    }
}

export!(G);
