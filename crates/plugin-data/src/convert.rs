//! Long ↔ wide time-series conversions.
