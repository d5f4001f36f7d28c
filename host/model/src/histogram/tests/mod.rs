//! Prometheus' `model/histogram` unit tests, ported: the table cases are translated
//! mechanically (`cases_*.rs`), the runners below do what the Go runners do.

mod bench;
mod cases_float_compact;
mod cases_float_iter;
mod cases_float_misc;
mod cases_float_ops;
mod cases_int;
mod float;
mod generic;
mod int;
mod iter;
mod model_check;
mod robustness;
