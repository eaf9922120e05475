//! Grafana frame JSON ("DataFrameJSON"), both directions.
//!
//! ```text
//! {"schema":{"name"?,"refId"?,"meta"?,"fields":[{"name"?,"type","typeInfo":{"frame","nullable"?},"labels"?,"config"?}]},
//!  "data":{"values":[[col0...],[col1...]],"entities"?:[null|{"NaN"?,"Inf"?,"NegInf"?}],"nanos"?:[null|[ns...]]}}
//! ```
//!
//! Times are epoch milliseconds with the sub-millisecond remainder in `nanos`; `NaN` and `±Inf`
//! are written `null` and listed by row in `entities`. Names and refIds are omitted when empty.

pub(crate) mod decode;
pub(crate) mod encode;
mod write;

pub(crate) use decode::decode_frame;
pub(crate) use encode::encode_frame;
