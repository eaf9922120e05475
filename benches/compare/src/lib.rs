//! Bench-only crate; see benches/compare.rs.
