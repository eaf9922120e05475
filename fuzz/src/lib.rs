//! Shared pieces of the fuzz targets in `fuzz_targets/`: the converter
//! property ([`convert`]), the in-process server and the request layout of
//! `grpc_request` ([`grpc`]), and the structured frame JSON of
//! `frame_json_structured` ([`frame_json`]).
//!
//! Every target states one property: hostile input is an `Err` (or a gRPC
//! status), never a panic, a hang or an abort; and what is accepted
//! round-trips.

pub mod convert;
pub mod frame_json;
pub mod grpc;
