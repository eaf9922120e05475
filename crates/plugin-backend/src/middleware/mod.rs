//! Middleware (in progress).
