//! Grafana data frames on Apache Arrow.
