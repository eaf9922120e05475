//! Concurrency (in progress).
